"""Country presets: sensible defaults for a new cooperative of each country we serve."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CountryPreset:
    country: str
    currency: str
    language: str
    time_zone: str
    use_native_digits: bool
    head_office_name: str


COUNTRY_PRESETS: dict[str, CountryPreset] = {
    "BD": CountryPreset("BD", "BDT", "bn", "Asia/Dhaka", True, "প্রধান কার্যালয়"),
    "VN": CountryPreset("VN", "VND", "vi", "Asia/Ho_Chi_Minh", False, "Trụ sở chính"),
    "TH": CountryPreset("TH", "THB", "th", "Asia/Bangkok", False, "สำนักงานใหญ่"),
}
DEFAULT_PRESET = CountryPreset("", "USD", "en", "UTC", False, "Head office")


def preset_for(country: str) -> CountryPreset:
    return COUNTRY_PRESETS.get(country.upper(), DEFAULT_PRESET)

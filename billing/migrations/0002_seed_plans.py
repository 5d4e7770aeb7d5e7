"""The plans offered on the public site, with their prices in BDT, VND, THB and USD (minor units).

Operations staff change prices and limits afterwards; this only fills an empty table. The Stripe
ids are ours (`manage.py billing_stripe_sync` creates the monthly prices at Stripe under them).
"""

from django.db import migrations

PLANS = [
    # code, name, names, members, branches, staff, sms/month, {currency: (monthly, setup)}
    (
        "starter",
        "Starter",
        {"bn": "সূচনা", "vi": "Khởi đầu", "th": "เริ่มต้น"},
        300, 1, 5, 500,
        {"BDT": (1_500_00, 5_000_00), "VND": (450_000, 1_500_000), "THB": (600_00, 2_000_00), "USD": (15_00, 50_00)},
    ),
    (
        "standard",
        "Standard",
        {"bn": "স্ট্যান্ডার্ড", "vi": "Tiêu chuẩn", "th": "มาตรฐาน"},
        2_000, 5, 20, 3_000,
        {"BDT": (4_000_00, 15_000_00), "VND": (1_200_000, 4_000_000), "THB": (1_500_00, 5_000_00), "USD": (39_00, 150_00)},
    ),
    (
        "network",
        "Network",
        {"bn": "নেটওয়ার্ক", "vi": "Mạng lưới", "th": "เครือข่าย"},
        None, 25, 100, 15_000,
        {"BDT": (12_000_00, 40_000_00), "VND": (3_500_000, 12_000_000), "THB": (4_500_00, 15_000_00), "USD": (119_00, 450_00)},
    ),
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    PlanPrice = apps.get_model("billing", "PlanPrice")
    if Plan.objects.exists():
        return
    for order, (code, name, names, members, branches, staff, sms, prices) in enumerate(PLANS):
        plan = Plan.objects.create(
            code=code,
            name=name,
            names=names,
            max_members=members,
            max_branches=branches,
            max_staff_users=staff,
            sms_per_month=sms,
            sort_order=order,
        )
        for currency, (monthly, setup) in prices.items():
            PlanPrice.objects.create(
                plan=plan,
                currency=currency,
                monthly_fee_minor=monthly,
                setup_fee_minor=setup,
                stripe_price_id=f"coopcore_{code}_{currency.lower()}_monthly",
            )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""Data import in Chromium, in the demo samity's Bangla: upload the sample workbook, watch the dry
run's progress (htmx), read the report when the page reloads, download the report (on a phone);
import it, find an imported member and the opening balances in the trial balance, roll it back."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from control_plane.celery import app as celery_app
from core_banking.members.models import Member
from imports.engine.sample import write_sample
from imports.models import ImportJob, JobStatus
from tenants.models import Cooperative
from tests.e2e.conftest import DEMO, DEMO_HOST, chromium_path, log_in
from tests.processes import running_process

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(chromium_path() is None, reason="no Chromium on this machine"),
]


@pytest.fixture
def default_queue_worker(django_db_setup: None, tmp_path: Path) -> Iterator[None]:
    """A worker on the default queue, where the web server queues the dry run after the upload commits."""
    node = f"imports-{uuid.uuid4().hex[:8]}@localhost"
    command = [
        sys.executable, "-m", "celery", "-A", "control_plane", "worker", "-Q", "celery",
        "-n", node, "--pool", "solo", "-l", "info", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    with running_process(
        command,
        name="Celery worker",
        log_path=tmp_path / "worker.log",
        ready=lambda: bool(celery_app.control.ping(destination=[node], timeout=1)),
    ):
        yield


def test_an_admin_uploads_the_sample_and_reads_the_report_on_a_phone(
    browser: Any,
    server_port: int,
    browser_user: str,
    default_queue_worker: None,
    tmp_path: Path,
) -> None:
    cooperative = Cooperative.objects.get(slug=DEMO.spec.slug)
    workbook = tmp_path / "legacy.xlsx"
    summary = write_sample(workbook, members=300, country="BD", bad_rows=5)
    base = f"http://{DEMO_HOST}:{server_port}"
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, accept_downloads=True
    )
    page = phone.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"{base}/imports/new/")
    page.locator("input[name=spreadsheets]").set_input_files(str(workbook))
    page.locator("input[name=cut_over]").fill("2025-12-31")
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_url(f"{base}/imports/*/")
    job_id = int(page.url.rstrip("/").split("/")[-1])
    try:
        # The worker runs it; the polled block sees the end and the page reloads with the report.
        expect(page.locator("[data-testid=import-reconciliation]")).to_be_visible(timeout=60_000)
        expect(page.locator("[data-testid=import-progress]")).to_have_attribute("data-status", "validated")
        expect(page.locator("tr[data-control=savings]")).to_have_attribute("data-difference", "0")
        expect(page.locator("tr[data-code=phone_invalid]").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide on a 360 px phone"
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        with page.expect_download() as download:
            page.locator(f"a[href='/imports/{job_id}/report.xlsx']").click()
        assert download.value.suggested_filename == f"import-{job_id}-report.xlsx"
        with tenant_context(cooperative):
            job = ImportJob.objects.get(pk=job_id)
            assert job.status == JobStatus.VALIDATED
            assert job.entity_counts["members"]["rows"] == summary.members
    finally:
        phone.close()
        with tenant_context(cooperative):
            job = ImportJob.objects.get(pk=job_id)
            for path in [*job.files.values_list("storage_path", flat=True), job.report_path]:
                if path:
                    default_storage.delete(path)


def test_an_admin_imports_the_sample_sees_the_members_and_the_trial_balance_then_rolls_back(
    browser: Any,
    server_port: int,
    browser_user: str,
    default_queue_worker: None,
    tmp_path: Path,
) -> None:
    cooperative = Cooperative.objects.get(slug=DEMO.spec.slug)  # it has the sample's products
    workbook = tmp_path / "legacy.xlsx"
    summary = write_sample(workbook, members=150, country="BD")
    base = f"http://{DEMO_HOST}:{server_port}"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, server_port, browser_user)
    page.goto(f"{base}/imports/new/")
    page.locator("input[name=spreadsheets]").set_input_files(str(workbook))
    page.locator("input[name=cut_over]").fill("2025-12-31")
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_url(f"{base}/imports/*/")
    job_id = int(page.url.rstrip("/").split("/")[-1])
    try:
        expect(page.locator("[data-testid=commit-button]")).to_be_visible(timeout=60_000)
        expect(page.locator("tr[data-control=savings]")).to_have_attribute("data-difference", "0")
        accept = page.locator("[data-testid=accept-warnings]")
        if accept.count():
            accept.check()
        page.locator("[data-testid=commit-button]").click()
        # The worker imports; the polled block sees the end and the page reloads with what was made.
        expect(page.locator("[data-testid=commit-totals]")).to_be_visible(timeout=120_000)
        expect(page.locator("[data-testid=import-progress]")).to_have_attribute("data-status", "committed")
        created = page.locator("[data-testid=commit-totals] tr[data-entity=members] td").first
        expect(created).to_have_text(re.compile(r"১৫০|150"))

        with tenant_context(cooperative):
            job = ImportJob.objects.get(pk=job_id)
            member = Member.objects.get(
                pk=job.records.filter(entity="members").order_by("id").values("object_id")[:1]
            )
        page.goto(f"{base}/members/?q={member.number}")
        expect(page.locator("main")).to_contain_text(member.full_name)

        page.goto(f"{base}/reports/trial-balance/")
        table = page.locator("main table").first
        expect(table).to_contain_text("2100-FDR")
        page.screenshot(path=str(tmp_path / "trial-balance.png"), full_page=True)

        page.goto(f"{base}/imports/{job_id}/")
        page.locator("[data-testid=rollback] summary").click()
        page.locator("[data-testid=rollback] input[name=reason]").fill("the cut-over date was wrong")
        page.locator("[data-testid=rollback-button]").click()
        expect(page.locator("[data-testid=rolled-back]")).to_be_visible()
        with tenant_context(cooperative):
            assert not Member.objects.filter(pk=member.pk).exists()
            assert ImportJob.objects.get(pk=job_id).status == JobStatus.ROLLED_BACK
            assert job.commit_counts["savings_accounts"]["created"] == summary.savings_accounts
    finally:
        context.close()
        with tenant_context(cooperative):
            job = ImportJob.objects.get(pk=job_id)
            if job.status == JobStatus.COMMITTED:
                from imports.commit import import_rollback

                import_rollback(actor=None, job_id=job_id, reason="test clean-up")
            for path in [*job.files.values_list("storage_path", flat=True), job.report_path]:
                if path:
                    default_storage.delete(path)

"""Users imported from a CSV file in Chromium, in Thai: the passwords shown once, downloaded
as a CSV file made in the browser, and one of them signs its user in."""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.conftest import Journey

ADMIN = "admin@central.go.th"

pytestmark = pytest.mark.e2e


def test_an_admin_imports_users_and_downloads_their_passwords(app, world, person, tmp_path):  # type: ignore[no-untyped-def]
    world.agency("AG-A", name_th="กรมทดสอบ")
    world.user(ADMIN, role="admin")
    journey = Journey("users-import")
    admin = person()
    page = admin.page
    admin.login(ADMIN, lands_on="**/central/**")
    admin.goto("/central/users")
    page.locator("details summary", has_text="นำเข้าผู้ใช้จาก CSV").click()
    file = tmp_path / "ผู้ประสานงาน.csv"
    file.write_bytes(
        "email,role,agency,name\nnew@agency.go.th,coordinator,AG-A,สมหญิง ใจดี\n".encode("cp874")
    )
    page.locator('input[type="file"]').set_input_files(str(file))
    journey.step(admin, "import-form")
    page.locator("details form").get_by_role("button", name="นำเข้า").click()
    page.wait_for_url("**/central/users/import")
    assert "สร้างผู้ใช้ 1 คน" in page.locator("main").inner_text()
    shown = page.locator('#passwords td[data-column="password"]').inner_text().strip()
    journey.step(admin, "passwords-shown")
    # Leaving before the passwords are downloaded asks first; staying keeps them.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.locator("main").click()  # a page the user has touched may ask
    page.get_by_role("link", name="กลับไปที่รายชื่อผู้ใช้").click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.url.endswith("/central/users/import")
    with page.expect_download() as waiting:
        page.get_by_role("button", name="ดาวน์โหลดรหัสผ่าน (CSV)").click()
    download = waiting.value
    assert download.suggested_filename == "ผู้ประสานงาน-passwords.csv"
    text = download.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "email": "new@agency.go.th",
            "password": shown,
            "name": "สมหญิง ใจดี",
            "role": "coordinator",
            "agency": "AG-A",
            "agency_name": "กรมทดสอบ",
        }
    ]
    assert admin.problems == []
    admin.close()
    # The password signs the new coordinator in.
    newcomer = person()
    newcomer.login("new@agency.go.th", shown, lands_on="**/my")
    assert "กรมทดสอบ" in newcomer.page.locator("main").inner_text()
    newcomer.close()

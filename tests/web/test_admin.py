"""The central office's registers: agencies, users (admins only), questionnaire versions."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from assess.extensions import db
from assess.models import Agency, QuestionnaireVersion, User

PASSWORD = "correct horse battery"


@pytest.fixture
def people(world):
    ministry = world.agency("MOF", type="ministry", province="Bangkok", name_en="Finance")
    world.agency("MOF-RD", type="department", province="Bangkok", tags=["tax", "pilot"])
    world.agency("PROV-CMI", type="province", province="Chiang Mai", tags=["north"])
    coordinator = world.user("rd@example.go.th", agency=ministry)
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    admin = world.user("admin@example.go.th", role="admin")
    for user in (coordinator, reviewer, admin):
        user.language = "en"  # the tests read English text, whatever the catalogue
    db.session.commit()
    return reviewer, admin


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def upload(client, url, name, data):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_admin_imports_users_and_sees_their_passwords_once(client, auth, people):
    from assess.models import AuditEvent
    from assess.services import users

    auth.login("admin@example.go.th")
    assert "Import users from CSV" in page_of(client, "/central/users")
    data = (
        "email,role,agency,name,language\n"
        "New.One@Example.go.th,coordinator,MOF-RD,ผู้ประสานงาน ใหม่,th\n"
        "rd@example.go.th,coordinator,MOF,,\n"  # there already, as the file says
        "checker@example.go.th,reviewer,,Checker,en\n"
    ).encode("cp874")  # as Excel saves it on a Thai Windows
    reply = upload(client, "/central/users/import", "coordinators.csv", data)
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    html = reply.get_data(as_text=True)
    assert "coordinators.csv: 2 users created, 1 already there." in html
    passwords = dict(
        re.findall(
            r'<td data-column="email">([^<]+)</td>\s*<td data-column="password"><code[^>]*>([^<]+)</code>',
            html,
        )
    )
    assert set(passwords) == {"new.one@example.go.th", "checker@example.go.th"}
    made = users.find_user("new.one@example.go.th")
    assert made.check_password(passwords["new.one@example.go.th"])
    assert (made.name, made.agency.code, made.language) == ("ผู้ประสานงาน ใหม่", "MOF-RD", "th")
    events = db.session.scalars(select(AuditEvent).filter_by(action="user.create")).all()
    assert {e.actor_label for e in events} == {"admin@example.go.th"}
    assert "js/passwords.js" in html
    # The same file again: nobody new, no password shown.
    again = upload(client, "/central/users/import", "coordinators.csv", data)
    assert "coordinators.csv: 0 users created, 3 already there." in again.get_data(as_text=True)
    assert 'data-column="password"' not in again.get_data(as_text=True)
    assert '<h1 class="h4">No new users</h1>' in again.get_data(as_text=True)


def test_a_users_file_with_problems_creates_nobody(client, auth, people):
    auth.login("admin@example.go.th")
    before = db.session.scalar(select(func.count()).select_from(User))
    data = b"email,role,agency\nok@example.go.th,coordinator,MOF\nnot-an-email,coordinator,NOPE\n"
    reply = upload(client, "/central/users/import", "users.csv", data)
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert "users.csv:3: &#39;not-an-email&#39; is not an e-mail address" in html
    assert "users.csv:3: agency NOPE: no such agency" in html
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    # More new users than the web makes at once: refused before any password is hashed.
    rows = "".join(f"u{n}@example.go.th,reviewer\n" for n in range(101))
    reply = upload(client, "/central/users/import", "many.csv", f"email,role\n{rows}".encode())
    assert reply.status_code == 422
    assert (
        "many.csv: 101 new users; at most 100 are created at a time here (each password takes "
        "a moment to secure): split the file, or use &#39;assess user import&#39;"
    ) in reply.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    # Reviewers cannot.
    auth.logout()
    auth.login("reviewer@example.go.th")
    assert upload(client, "/central/users/import", "users.csv", data).status_code == 403


def agency_count():
    return db.session.scalar(select(func.count()).select_from(Agency))


# -- users: admins only ----------------------------------------------------------------------


def user_urls(app, people):
    reviewer, _ = people
    adapter = app.url_map.bind("assess.test")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/central/users"):
            url = adapter.build(rule.endpoint, {"user_id": reviewer.id} if rule.arguments else {})
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield url, method


def test_reviewer_gets_403_on_every_user_route(app, client, auth, people):
    auth.login("reviewer@example.go.th")
    urls = list(user_urls(app, people))
    assert len(urls) >= 5
    for url, method in urls:
        assert client.open(url, method=method).status_code == 403, (method, url)
    # …and the menu does not offer the page.
    assert "/central/users" not in page_of(client, "/central/agencies")


def test_admin_reaches_every_user_page(app, client, auth, people):
    auth.login("admin@example.go.th")
    for url, method in user_urls(app, people):
        if method == "GET":
            assert client.get(url).status_code == 200, url
    assert "/central/users" in page_of(client, "/central/agencies")


def test_user_list_filters_and_exports(client, auth, people):
    auth.login("admin@example.go.th")
    html = page_of(client, "/central/users")
    for email in ("rd@example.go.th", "reviewer@example.go.th", "admin@example.go.th"):
        assert email in html
    filtered = page_of(client, "/central/users?role=coordinator")
    assert "rd@example.go.th" in filtered
    assert "reviewer@example.go.th" not in filtered
    assert "reviewer@example.go.th" in page_of(client, "/central/users?q=review")
    response = client.get("/central/users?format=csv&role=coordinator")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["email"], r["agency"], r["active"]) for r in rows] == [
        ("rd@example.go.th", "MOF", "yes")
    ]


def test_create_user_and_refuse_a_duplicate(client, auth, people):
    auth.login("admin@example.go.th")
    assert page_of(client, "/central/users/new")
    response = client.post(
        "/central/users/new",
        data={
            "email": "New.Coordinator@Example.go.th",
            "name": "ผู้ประสานงานใหม่",
            "role": "coordinator",
            "agency_code": "PROV-CMI",
            "language": "th",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).filter_by(email="new.coordinator@example.go.th"))
    assert user.agency.code == "PROV-CMI"
    assert user.check_password("a long enough password")
    refused = client.post(
        "/central/users/new",
        data={
            "email": "new.coordinator@example.go.th",
            "name": "Typed again",
            "role": "reviewer",
            "language": "th",
            "password": "another long password",
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "already exists" in html
    assert "Typed again" in html
    assert db.session.scalar(select(func.count()).select_from(User)) == 4


def test_create_user_refusals(client, auth, people):
    auth.login("admin@example.go.th")
    base = {"email": "x@example.go.th", "language": "th", "password": "a long enough password"}
    cases = [
        ({"role": "coordinator", "agency_code": ""}, "needs an agency"),
        ({"role": "coordinator", "agency_code": "NOPE"}, "NOPE: no such agency"),
        ({"role": "reviewer", "agency_code": "MOF"}, "belongs to the central office"),
        ({"role": "reviewer", "password": "short"}, "at least 10 characters"),
        ({"role": "reviewer", "email": "not-an-email"}, "is not an e-mail address"),
    ]
    for extra, message in cases:
        response = client.post("/central/users/new", data={**base, **extra})
        assert response.status_code == 422, extra
        assert message in response.get_data(as_text=True), extra
        assert "--agency" not in response.get_data(as_text=True)  # the command line's words
    assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_users_import_creates_many_and_signs_them_in(client, people):
    """``users.import_users`` on each database: every new user can sign in with the
    password handed back; a refused file creates nobody."""
    from assess.services import users
    from assess.services.errors import ServiceError

    rows = "".join(f"lao{i}@example.go.th,coordinator,MOF-RD,,\n" for i in range(30))
    data = ("email,role,agency,name,language\n" + rows).encode("utf-8")
    refused = data + b"rd@example.go.th,coordinator,PROV-CMI,,\n"
    with pytest.raises(ServiceError, match=r"users.csv:32: a user with e-mail rd@example.go.th"):
        users.import_users(refused, "users.csv")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 3
    told: list[int] = []
    done = users.import_users(data, "users.csv", progress=told.append)
    db.session.commit()
    assert told == [30]
    assert (len(done.created), done.unchanged) == (30, 0)
    assert len({password for _email, password in done.created}) == 30
    email, password = done.created[7]
    reply = client.post("/login", data={"email": email, "password": password})
    assert reply.status_code in (302, 303)
    assert users.import_users(data, "users.csv").unchanged == 30


def test_generated_password_is_shown_once(client, auth, people):
    auth.login("admin@example.go.th")
    response = client.post(
        "/central/users/new",
        data={"email": "gen@example.go.th", "role": "reviewer", "language": "en", "password": ""},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    password = html.split('id="generated-password">')[1].split("<")[0]
    assert len(password) >= 12
    user = db.session.scalar(select(User).filter_by(email="gen@example.go.th"))
    assert user.check_password(password)
    assert password not in page_of(client, f"/central/users/{user.id}")


def test_edit_user_and_admin_cannot_deactivate_themself(client, auth, people):
    reviewer, admin = people
    auth.login("admin@example.go.th")
    html = page_of(client, f"/central/users/{reviewer.id}")
    assert "reviewer@example.go.th" in html
    response = client.post(
        f"/central/users/{reviewer.id}",
        data={
            "name": "Somchai R.",
            "role": "coordinator",
            "agency_code": "MOF-RD",
            "language": "en",
            "password": "brand new password 1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, reviewer.id)
    assert (changed.name, changed.role, changed.agency.code, changed.active) == (
        "Somchai R.",
        "coordinator",
        "MOF-RD",
        False,  # the box was not ticked
    )
    assert changed.check_password("brand new password 1")

    refused = client.post(
        f"/central/users/{admin.id}",
        data={"name": "Me", "role": "admin", "agency_code": "", "language": "th"},
    )
    assert refused.status_code == 422
    assert "You cannot deactivate yourself" in refused.get_data(as_text=True)
    refused = client.post(
        f"/central/users/{admin.id}",
        data={"name": "Me", "role": "reviewer", "language": "th", "active": "y"},
    )
    assert refused.status_code == 422
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert me.active
    assert me.role == "admin"
    assert me.name == ""
    # Still signed in, and can save own name.
    response = client.post(
        f"/central/users/{admin.id}",
        data={"name": "Me", "role": "admin", "language": "th", "active": "y"},
    )
    assert response.status_code == 302
    assert client.get("/central/users").status_code == 200


# -- agencies --------------------------------------------------------------------------------


def test_agency_list_filters_paginates_and_exports(client, auth, world, people):
    for i in range(55):
        world.agency(f"LAO-{i:03d}", type="local", province="Nan")
    auth.login("reviewer@example.go.th")
    html = page_of(client, "/central/agencies")
    assert "LAO-000" in html
    assert "LAO-049" in html
    assert "LAO-050" not in html
    assert "MOF-RD" not in html
    second = page_of(client, "/central/agencies?page=2")
    assert "LAO-054" in second
    assert "MOF-RD" in second
    assert "PROV-CMI" in second
    assert "PROV-CMI" in page_of(client, "/central/agencies?tag=north")
    tagged = page_of(client, "/central/agencies?tag=tax")
    assert "MOF-RD" in tagged
    assert "PROV-CMI" not in tagged
    by_type = page_of(client, "/central/agencies?type=province")
    assert "PROV-CMI" in by_type
    assert "MOF-RD" not in by_type
    by_province = page_of(client, "/central/agencies?province=Chiang+Mai")
    assert "PROV-CMI" in by_province
    assert "LAO-001" not in by_province
    assert "Finance" in page_of(client, "/central/agencies?q=finance")
    response = client.get("/central/agencies?format=csv&tag=tax")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows == [
        {
            "code": "MOF-RD",
            "name_th": "หน่วยงาน MOF-RD",
            "name_en": "Agency MOF-RD",
            "type": "department",
            "parent_code": "",
            "province": "Bangkok",
            "tags": "tax|pilot",
        }
    ]


def test_agency_import_is_all_or_nothing(client, auth, people):
    auth.login("reviewer@example.go.th")
    before = agency_count()
    bad = (
        "code,name_th,name_en,type,parent_code,province,tags\n"
        "MOI,กระทรวงมหาดไทย,Ministry of Interior,ministry,,Bangkok,\n"
        "MOI-DOPA,กรมการปกครอง,Department of Provincial Administration,bureau,MOI,Bangkok,\n"
        "MOI-DLA,กรมส่งเสริมการปกครองท้องถิ่น,,department,MOI,Bangkok,local|support\n"
    ).encode()
    response = upload(client, "/central/agencies/import", "agencies.csv", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "agencies.csv:3:" in html
    assert "bureau" in html
    assert agency_count() == before
    good = bad.replace(b",bureau,", b",department,")
    response = upload(client, "/central/agencies/import", "agencies.csv", good)
    assert response.status_code == 302
    assert agency_count() == before + 3
    dla = db.session.scalar(select(Agency).filter_by(code="MOI-DLA"))
    assert dla.parent.code == "MOI"
    assert dla.tags == ["local", "support"]
    assert "3 agencies created, 0 updated, 0 unchanged" in page_of(client, "/central/agencies")
    # Not a CSV at all.
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    response = upload(client, "/central/agencies/import", "agencies.csv", picture)
    assert response.status_code == 422
    assert "agencies.csv:1: byte 1 of the line (0x89) is not UTF-8 or Thai Windows text" in (
        response.get_data(as_text=True)
    )


def test_agency_import_refuses_a_file_that_is_not_csv(client, auth, people):
    """A cell over Python's CSV limit (131,072 characters) was a 500: now the page names
    the file and line, and nothing of the file is stored."""
    auth.login("reviewer@example.go.th")
    before = agency_count()
    data = ("code,name_th\nNEW-1,ใหม่\nNEW-2," + "ก" * 131_073 + "\nNEW-3,ใหม่สาม\n").encode()
    response = upload(client, "/central/agencies/import", "big.csv", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "big.csv:3: not valid CSV: field larger than field limit (131072)" in html
    assert agency_count() == before
    # Duplicate columns, and text the database cannot hold, are named on the page too.
    response = upload(client, "/central/agencies/import", "dup.csv", b"code,code\nA,B\n")
    assert response.status_code == 422
    assert "dup.csv:1: column code appears twice (columns 1 and 2)" in response.get_data(
        as_text=True
    )
    response = upload(client, "/central/agencies/import", "nul.csv", b"code,name_th\nA,x\x00y\n")
    assert response.status_code == 422
    assert (
        "nul.csv:2: agency A: name_th: the text contains a control character, U+0000, "
        "at character 2; remove it"
    ) in response.get_data(as_text=True)
    assert agency_count() == before


def test_agency_and_user_forms_refuse_a_control_character(client, auth, people):
    """A NUL typed (or posted) into a form is named with its field (PostgreSQL would refuse
    it with a message naming neither); nothing is saved."""
    auth.login("admin@example.go.th")
    refused = client.post(
        "/central/agencies/MOF-RD",
        data={"name_th": "กรม\x00สรรพากร", "type": "department", "province": "Bangkok"},
    )
    assert refused.status_code == 422
    assert (
        "name_th: the text contains a control character, U+0000, at character 4; remove it"
        in refused.get_data(as_text=True)
    )
    refused = client.post(
        "/central/agencies/new",
        data={"code": "NEW-1", "name_th": "ใหม่", "type": "department", "province": "Nan\x00"},
    )
    assert refused.status_code == 422
    assert "province: the text contains a control character, U+0000, at character 4" in (
        refused.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.scalar(select(Agency).filter_by(code="MOF-RD")).name_th != "กรม\x00สรรพากร"
    assert db.session.scalar(select(Agency).filter_by(code="NEW-1")) is None
    refused = client.post(
        "/central/users/new",
        data={
            "email": "new@example.go.th",
            "name": "ชื่อ\x00",
            "role": "reviewer",
            "language": "th",
            "password": "a long enough password",
        },
    )
    assert refused.status_code == 422
    assert "name: the text contains a control character, U+0000, at character 5" in (
        refused.get_data(as_text=True)
    )
    refused = client.post(
        "/central/users/new",
        data={
            "email": "n\x00@example.go.th",
            "role": "coordinator",
            "agency_code": "MOF\x00",
            "language": "th",
            "password": "a long enough password",
        },
    )
    assert refused.status_code == 422  # not a 500 from the database (PostgreSQL)
    assert "no such agency" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_agency_edit(client, auth, people):
    auth.login("reviewer@example.go.th")
    html = page_of(client, "/central/agencies/MOF-RD")
    assert 'value="tax|pilot"' in html
    response = client.post(
        "/central/agencies/MOF-RD",
        data={
            "name_th": "กรมสรรพากร",
            "name_en": "The Revenue Department",
            "type": "department",
            "parent_code": "MOF",
            "province": "Bangkok",
            "tags": "tax | e-service",
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    rd = db.session.scalar(select(Agency).filter_by(code="MOF-RD"))
    assert (rd.name_th, rd.name_en, rd.parent.code, rd.tags, rd.active) == (
        "กรมสรรพากร",
        "The Revenue Department",
        "MOF",
        ["tax", "e-service"],
        True,
    )
    refused = client.post(
        "/central/agencies/MOF-RD",
        data={"name_th": "Typed name", "type": "department", "parent_code": "NOPE"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "NOPE: no such agency" in html
    assert "Typed name" in html
    refused = client.post(
        "/central/agencies/MOF-RD",
        data={"name_th": "", "name_en": "", "type": "department"},
    )
    assert refused.status_code == 422
    assert "Thai or an English name" in refused.get_data(as_text=True)
    refused = client.post(
        "/central/agencies/MOF",
        data={"name_th": "กระทรวงการคลัง", "type": "ministry", "parent_code": "MOF-RD"},
    )
    assert refused.status_code == 422
    assert "cycle" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Agency).filter_by(code="MOF-RD")).name_th == "กรมสรรพากร"
    assert db.session.scalar(select(Agency).filter_by(code="MOF")).parent_id is None
    assert client.get("/central/agencies/NOPE").status_code == 404


def test_provinces_are_stored_in_one_spelling_and_shown_in_the_readers_language(
    client, auth, people
):
    """ "จังหวัดเชียงใหม่", "Chiangmai" and "Chiang Mai" are one province, shown in Thai."""
    reviewer, _admin = people
    reviewer.language = "th"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    data = (
        "code,name_th,name_en,type,parent_code,province,tags\n"
        "LAO-CMI-1,เทศบาลนครเชียงใหม่,,local,,จังหวัดเชียงใหม่,\n"
        "LAO-CMI-2,เทศบาลเมืองแม่โจ้,,local,,Chiangmai,\n"
        "LAO-X,หน่วยงานทดลอง,,local,,Atlantis,\n"
    ).encode()
    assert upload(client, "/central/agencies/import", "agencies.csv", data).status_code == 302
    stored = {
        code: province
        for code, province in db.session.execute(select(Agency.code, Agency.province))
    }
    assert stored["LAO-CMI-1"] == stored["LAO-CMI-2"] == "Chiang Mai"
    assert stored["LAO-X"] == "Atlantis"  # no known province: kept as given, with a note
    html = page_of(client, "/central/agencies")
    assert (
        "agencies.csv:4: หน่วยงาน LAO-X: จังหวัด &#39;Atlantis&#39; ไม่ใช่หนึ่งใน 77 จังหวัดของ"
        "ประเทศไทย จึงเก็บไว้ตามที่ระบุ"
    ) in html
    assert "หมายเหตุอื่น" not in html
    # The filter offers each province once, by its Thai name, in dictionary order.
    assert html.count('<option value="Chiang Mai"') == 1
    assert '<option value="Chiang Mai" >เชียงใหม่</option>' in html
    assert html.index(">กรุงเทพมหานคร<") < html.index(">เชียงใหม่<")
    assert '<td class="small">เชียงใหม่</td>' in html
    assert '<td class="small">Chiang Mai</td>' not in html
    # Filtering by the Thai name finds the stored English spelling, and a record stored
    # in Thai before (the migration gives it the one spelling; this one came in around it).
    db.session.add(Agency(code="OLD-CMI", name_th="บันทึกเก่า", province="เชียงใหม่", tags=[]))
    db.session.commit()
    by_thai = page_of(client, "/central/agencies?province=เชียงใหม่")
    assert "LAO-CMI-1" in by_thai
    assert "OLD-CMI" in by_thai
    assert "MOF-RD" not in by_thai
    assert '<option value="เชียงใหม่" selected>เชียงใหม่</option>' in by_thai
    # The form shows the Thai name, offers the 77 names, and stores the one spelling.
    form = page_of(client, "/central/agencies/MOF-RD")
    assert 'name="province" type="text" value="กรุงเทพมหานคร"' in form
    assert form.count("<option value=", form.index('<datalist id="province-names">')) >= 77
    response = client.post(
        "/central/agencies/MOF-RD",
        data={"name_th": "กรมสรรพากร", "type": "department", "province": "จ.น่าน"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Agency.province).filter_by(code="MOF-RD")) == "Nan"
    assert "ไม่ใช่หนึ่งใน 77" not in page_of(client, "/central/agencies/MOF-RD")
    # A typo is kept as typed (the field is free text), with a warning that suggests the name.
    response = client.post(
        "/central/agencies/MOF-RD",
        data={"name_th": "กรมสรรพากร", "type": "department", "province": "เชียงไหม่"},
    )
    assert response.status_code == 302
    assert (
        "หน่วยงาน MOF-RD: จังหวัด &#39;เชียงไหม่&#39; ไม่ใช่หนึ่งใน 77 จังหวัดของประเทศไทย "
        "จึงเก็บไว้ตามที่ระบุ (หมายถึง เชียงใหม่ หรือไม่)"
    ) in page_of(client, "/central/agencies/MOF-RD")
    db.session.expire_all()
    assert db.session.scalar(select(Agency.province).filter_by(code="MOF-RD")) == "เชียงไหม่"
    # Many: the first five, then how many more.
    rows = "".join(f"LAO-Z{i},อบต. {i},,local,,Nowhere {i},\n" for i in range(8))
    data = f"code,name_th,name_en,type,parent_code,province,tags\n{rows}".encode()
    assert upload(client, "/central/agencies/import", "more.csv", data).status_code == 302
    html = page_of(client, "/central/agencies")
    assert html.count("ไม่ใช่หนึ่งใน 77") == 5
    assert "… และหมายเหตุอื่นอีก 3 รายการ" in html
    # English pages show the English names.
    reviewer.language = "en"
    db.session.commit()
    assert '<td class="small">Chiang Mai</td>' in page_of(client, "/central/agencies")


def test_new_agency(client, auth, people):
    auth.login("reviewer@example.go.th")
    assert page_of(client, "/central/agencies/new")
    response = client.post(
        "/central/agencies/new",
        data={
            "code": "MOF-CGD",
            "name_th": "กรมบัญชีกลาง",
            "type": "department",
            "parent_code": "MOF",
            "province": "Bangkok",
            "tags": "",
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Agency).filter_by(code="MOF-CGD")).parent.code == "MOF"
    refused = client.post(
        "/central/agencies/new", data={"code": "MOF-CGD", "name_th": "ซ้ำ", "type": "department"}
    )
    assert refused.status_code == 422
    assert "already exists" in refused.get_data(as_text=True)
    refused = client.post(
        "/central/agencies/new", data={"code": "bad code!", "name_th": "x", "type": "department"}
    )
    assert refused.status_code == 422


# -- questionnaires --------------------------------------------------------------------------


BROKEN = b"""schema: assess/questionnaire@1
code: X
version: "1"
title: {th: t}
levels: []
dimensions:
  - code: a
    questions: 5
"""


def test_invalid_questionnaire_shows_every_problem_and_stores_nothing(client, auth, people):
    auth.login("reviewer@example.go.th")
    response = upload(client, "/central/questionnaires/import", "broken.yaml", BROKEN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for where in ("broken.yaml:2:", "broken.yaml:5:", "broken.yaml:7:", "broken.yaml:8:"):
        assert where in html
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 0


def test_questionnaire_import_created_then_unchanged(client, auth, people):
    from assess.questionnaires.builtin import builtin_path

    data = builtin_path("dg-readiness", "2568").read_bytes()
    auth.login("reviewer@example.go.th")
    response = upload(client, "/central/questionnaires/import", "dg-readiness-2568.yaml", data)
    assert response.status_code == 302
    version = db.session.scalar(select(QuestionnaireVersion))
    assert version.key == "dg-readiness@2568"
    html = page_of(client, response.headers["Location"])
    assert "imported as a new version" in html
    response = upload(client, "/central/questionnaires/import", "again.yaml", data)
    assert "nothing changed" in page_of(client, response.headers["Location"])
    listing = page_of(client, "/central/questionnaires")
    assert version.content_hash[:12] in listing
    assert "dg-readiness@2568" in listing


def test_version_view_is_readable(client, auth, world, people):
    version = world.questionnaire()
    world.round(version, agencies=[world.agency("AG-1")], name="Round using 2569")
    auth.login("reviewer@example.go.th")
    html = page_of(client, f"/central/questionnaires/{version.id}")
    assert "mgmt.leadership" in html
    assert "Round using 2569" in html
    assert "service.service_count &gt; 0" in html  # show_if source text
    assert "linear from 30" in html  # number scoring in words
    assert "Initial" in html  # level names (the user reads English)
    assert "Range: 0 – 100%" in html  # a number's range with its unit, as English writes it
    assert "Range: 1 – …\u00a0people" in html
    assert "Round using 2569" in page_of(client, "/central/questionnaires")
    source = client.get(f"/central/questionnaires/{version.id}/source")
    assert source.get_data() == version.content.encode()
    assert client.get("/central/questionnaires/999").status_code == 404


def test_diff_between_the_builtin_versions(client, auth, world, people):
    old = world.questionnaire(key="dg-readiness@2568")
    new = world.questionnaire(key="dg-readiness@2569")
    auth.login("reviewer@example.go.th")
    assert f"old={old.id}" in page_of(client, f"/central/questionnaires/{new.id}")
    html = page_of(client, f"/central/questionnaires/diff?old={old.id}&new={new.id}")
    assert "re-based" in html
    added = html.split('id="added"')[1].split("</section>")[0]
    removed = html.split('id="removed"')[1].split("</section>")[0]
    assert "ea.ai_governance" in added
    assert "cyber.cloud_first" in added
    assert "mgmt.km" in removed
    assert "cyber.gdcc" in removed
    assert "ea.ai_governance" not in removed
    assert "service.pay_share" in html  # bands raised: a changed question
    same = page_of(client, f"/central/questionnaires/diff?old={old.id}&new={old.id}")
    assert "No differences" in same
    assert client.get(f"/central/questionnaires/diff?old={old.id}&new=999").status_code == 404
    assert page_of(client, "/central/questionnaires/diff")


def test_a_page_past_the_end_of_a_register_shows_its_last_page(client, auth, people):
    """As the review pages do (agencies and users; questionnaire versions the same way)."""
    auth.login("admin@example.go.th")
    assert "PROV-CMI" in page_of(client, "/central/agencies?page=99")
    assert "reviewer@example.go.th" in page_of(client, "/central/users?page=99")


# -- audit fixes: supersedes a version not stored, problems by line, the newest version -----


def small_version(version: str, supersedes: str | None = None, code: str = "qnote") -> bytes:
    from tests.web.test_questionnaire_versions import version_text

    return version_text(version, {"a": None}, code=code, supersedes=supersedes).encode()


def test_questionnaire_superseding_a_version_not_stored_is_kept_with_a_warning(
    client, auth, people
):
    """A typo in ``supersedes`` (2596 for 2569) is accepted (the older version may come
    later) but said, after the success message: no trend compares the two years until then."""
    auth.login("reviewer@example.go.th")
    response = upload(
        client, "/central/questionnaires/import", "typo.yaml", small_version("2570", "2596")
    )
    assert response.status_code == 302
    html = page_of(client, response.headers["Location"])
    warning = (
        "typo.yaml: supersedes qnote@2596, which is not stored: year-over-year comparison "
        "needs that version; check the version, or import it"
    )
    assert warning in html
    assert html.index("imported as a new version") < html.index(warning)
    assert db.session.scalar(select(QuestionnaireVersion.version)) == "2570"
    # The version it names, once stored, silences the note.
    response = upload(client, "/central/questionnaires/import", "old.yaml", small_version("2569"))
    response = upload(
        client, "/central/questionnaires/import", "next.yaml", small_version("2571", "2569")
    )
    assert "which is not stored" not in page_of(client, response.headers["Location"])


def test_import_text_returns_the_supersedes_note_for_the_command_line(app):
    from assess.services import questionnaires

    version, what = imported = questionnaires.import_text(
        small_version("2570", "2596"), "files/typo.yaml"
    )
    assert (version.key, what) == ("qnote@2570", "created")
    assert imported.notes == [
        "files/typo.yaml: supersedes qnote@2596, which is not stored: year-over-year "
        "comparison needs that version; check the version, or import it"
    ]
    # Imported again unchanged, the note still holds; without supersedes there is none.
    assert questionnaires.import_text(small_version("2570", "2596"), "typo.yaml").notes
    assert questionnaires.import_text(small_version("1", code="other"), "x.yaml").notes == []


def problem_lines(html: str, name: str) -> list[str]:
    """The ``NAME:LINE`` (or ``NAME``) each problem starts with, in the page's order."""
    import re

    return re.findall(rf"{re.escape(name)}(?::\d+)?(?=: )", html)


def test_agency_import_problems_are_listed_by_line(client, auth, people):
    """Parent problems (checked after every row) and a cycle were listed after the others:
    every problem is in line order now, those of the whole file first."""
    auth.login("reviewer@example.go.th")
    data = (
        "code,name_th,name_en,type,parent_code,province,tags\n"
        "A-1,ก,,kingdom,,,\n"  # 2: type
        "A-2,ข,,department,NOPE,,\n"  # 3: unknown parent
        "A-3,ค,,department,A-3,,\n"  # 4: its own parent
        "A-4,ง,,kingdom,,,\n"  # 5: type
        "CY-1,จ,,department,CY-2,,\n"  # 6: cycle CY-1 → CY-2 → CY-1
        "CY-2,ฉ,,department,CY-1,,\n"
        "A-5,ช,,,NOWHERE,,bad tag\n"  # 8: tag, then unknown parent
    ).encode()
    response = upload(client, "/central/agencies/import", "order.csv", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert problem_lines(html, "order.csv") == [
        "order.csv",  # the parents form a cycle
        "order.csv:2",
        "order.csv:3",
        "order.csv:4",
        "order.csv:5",
        "order.csv:8",
        "order.csv:8",
    ]
    assert "cycle: CY-1 → CY-2 → CY-1" in html
    assert html.index("is not a plain word") < html.index("NOWHERE")
    assert agency_count() == 3


def test_new_round_form_offers_the_newest_version_first(app):
    """Imported most recently is not newest: 2569 imported after 2570 and 2570.2."""
    import datetime as dt

    from assess.services import questionnaires

    stored = {}
    for version in ("2570", "2570.2", "2570.10", "2569"):
        stored[version], _what = questionnaires.import_text(small_version(version), version)
    stored["2569"].imported_at += dt.timedelta(minutes=1)
    ordered = questionnaires.newest_first(questionnaires.versions())
    assert [v.version for v in ordered] == ["2570.10", "2570.2", "2570", "2569"]
    # Another questionnaire imported later is the newest questionnaire: its newest version.
    later = {}
    for version in ("9", "10"):
        later[version], _what = questionnaires.import_text(
            small_version(version, code="zz"), version
        )
        later[version].imported_at = stored["2569"].imported_at + dt.timedelta(hours=1)
    ordered = questionnaires.newest_first(questionnaires.versions())
    assert [v.key for v in ordered[:3]] == ["zz@10", "zz@9", "qnote@2570.10"]


def test_the_activity_log_puts_imports_and_languages_in_words(client, auth, people, world):
    """The log showed "created: FILE" and "ภาษา: th", codes built in English."""
    auth.login("admin@example.go.th")
    upload(client, "/central/questionnaires/import", "dg.yaml", small_version("2570"))
    reviewer = db.session.scalar(select(User).filter_by(email="reviewer@example.go.th"))
    client.post(
        f"/central/users/{reviewer.id}",
        data={"name": "R", "role": "reviewer", "language": "th", "active": "y"},
    )
    html = page_of(client, "/central/activity")
    assert "dg.yaml: imported as a new version" in html
    assert "created: dg.yaml" not in html
    assert re.search(r"English</dd>.*?ไทย</dd>", html, re.S), "the language by its name"


def test_the_new_round_form_preselects_the_newest_version(client, auth, people):
    auth.login("admin@example.go.th")
    for version in ("2570", "2569"):  # 2569 imported last
        upload(client, "/central/questionnaires/import", f"{version}.yaml", small_version(version))
    html = page_of(client, "/central/rounds/new")
    selected = re.search(r'<option selected value="\d+">([^<]+)</option>', html) or re.search(
        r'<option value="\d+" selected>([^<]+)</option>', html
    )
    assert selected, html
    assert selected.group(1).startswith("qnote@2570")

"""The central office's CSV files (agencies, users): how they are read, and the text they
may bring in, on each database (PostgreSQL refuses a NUL and text longer than its column,
where SQLite stores both: the services refuse them first, naming file, line and field)."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from assess.models import Agency, User
from assess.services.agencies import column_length, open_csv, text_problem
from assess.services.errors import ServiceError

AGENCIES = """code,name_th,name_en,type,parent_code,province,tags
MOF,กระทรวงการคลัง,Ministry of Finance,ministry,,Bangkok,
MOF-RD,กรมสรรพากร,Revenue Department,department,MOF,Bangkok,revenue|pilot
"""
HEADER = AGENCIES.splitlines()[0]


def problems_of(call, *args, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as refused:
        call(*args, **kwargs)
    return refused.value.problems


# -- reading a file (no database) ------------------------------------------------------------


def test_a_header_as_excel_writes_it():
    data = "\ufeff code ,name_th ,,\r\nA, x ,,\r\n,,,\r\n\r\n  , ,,\r\nB,y\r\n".encode()
    table, problems = open_csv(data, "f.csv", ("code", "name_th"))
    assert problems == []
    assert (table.columns, table.width) == (["code", "name_th"], 4)
    # Rows of empty cells are left out; the cells under the header's empty ones too.
    assert table.rows == [(2, ["A", " x "]), (6, ["B", "y"])]


def test_a_row_is_named_by_the_line_it_starts_on():
    data = b'code,name_th\nA,"two\nlines"\nB,y\n'
    table, _problems = open_csv(data, "f.csv", ("code", "name_th"))
    assert table.rows == [(2, ["A", "two\nlines"]), (4, ["B", "y"])]


def test_header_problems_name_the_column():
    columns = ("code", "name_th")
    _table, problems = open_csv(b"code,Name_TH,,name_th\n", "f.csv", columns)
    assert problems == [
        "f.csv:1: unknown column 'Name_TH' (column 2); expected code,name_th",
        "f.csv:1: column 3 has no name; expected code,name_th",
    ]
    # A column twice is refused at once: the rows' cells would be read under either.
    assert problems_of(open_csv, b"code,name_th,code, name_th\nA,B,C,D\n", "f.csv", columns) == [
        "f.csv:1: column code appears twice (columns 1 and 3)",
        "f.csv:1: column name_th appears twice (columns 2 and 4)",
    ]


def test_text_under_a_header_cell_without_a_name_is_refused():
    data = b"code,name_th,,\nA,x,,\nB,y,,z\nC,z,,,\n"
    table, problems = open_csv(data, "f.csv", ("code", "name_th"))
    assert problems == ["f.csv:3: column 4 has no name in the header, but this row has text there"]
    # A row longer than the header is left whole, for the import to count its cells.
    assert table.rows == [(2, ["A", "x"]), (4, ["C", "z", "", "", ""])]


def test_a_cell_too_long_for_csv_is_a_problem_not_a_crash():
    # The csv module's limit is the process's: a library imported before (frictionless, in
    # the export tests) may have raised it. Python's default, as a fresh process has it.
    before = csv.field_size_limit(131_072)
    try:
        _a_cell_too_long()
    finally:
        csv.field_size_limit(before)


def _a_cell_too_long() -> None:
    huge = "n" * 131_073
    data = f"code,name_th\nA,x\nB,{huge}\nC,z\n".encode()
    table, problems = open_csv(data, "f.csv", ("code", "name_th"))
    assert problems == ["f.csv:3: not valid CSV: field larger than field limit (131072)"]
    assert table.rows == [(2, ["A", "x"])]
    assert problems_of(open_csv, f"{huge},code\n".encode(), "f.csv", ("code",)) == [
        "f.csv:1: not valid CSV: field larger than field limit (131072)"
    ]


# -- files as spreadsheets save them ------------------------------------------------------


def test_excel_files_of_a_thai_windows_and_of_unicode_text_are_read():
    columns = ("code", "name_th")
    expected = [(2, ["RD", "กรมสรรพากร"]), (3, ["BMA", "กรุงเทพมหานคร “กทม.” – น้ำ ผู้ใหญ่"])]
    text = "code,name_th\r\nRD,กรมสรรพากร\r\nBMA,กรุงเทพมหานคร “กทม.” – น้ำ ผู้ใหญ่\r\n"
    # "CSV (Comma delimited)" on a Thai Windows: the Thai code page, curly quotes and all.
    for data in (
        text.encode("cp874"),
        text.encode("utf-8"),
        text.encode("utf-8-sig"),
        # "Unicode Text": UTF-16 with a byte-order mark, tabs between the cells.
        text.replace(",", "\t").encode("utf-16"),
        text.replace(",", "\t").encode("utf-16-be").join([b"\xfe\xff", b""]),
        # A locale that separates cells with ";".
        text.replace(",", ";").encode("cp874"),
    ):
        table, problems = open_csv(data, "f.csv", columns)
        assert (problems, table.columns, table.rows) == ([], ["code", "name_th"], expected)


def test_a_file_in_another_code_page_is_refused_by_line_and_byte():
    data = "code,name_th\nA,ok\nB,Café\n".encode("latin-1")  # é: a tone mark after an "f"
    assert problems_of(open_csv, data, "f.csv", ("code", "name_th")) == [
        "f.csv:3: byte 6 of the line (0xE9) is not UTF-8 or Thai Windows text; save the file "
        "as CSV UTF-8"
    ]
    # A UTF-16 file cut in the middle of a character; a picture.
    assert problems_of(open_csv, b"\xff\xfec\x00o\x00d", "f.csv", ("code",)) == [
        "f.csv:1: byte 7 of the line (0x64) is not UTF-8 or Thai Windows text; save the file "
        "as CSV UTF-8"
    ]
    assert problems_of(open_csv, b"\x89PNG\r\n\x1a\n", "f.csv", ("code",)) == [
        "f.csv:1: byte 1 of the line (0x89) is not UTF-8 or Thai Windows text; save the file "
        "as CSV UTF-8"
    ]


def test_thai_windows_text_is_told_from_other_code_pages():
    from assess.questionnaires import textfile

    # Vowels below with a tone above, a mark on ำ's consonant, Thai digits, the baht sign.
    thai = "ผู้ใหญ่ กำลัง น้ำ ๑๒๓ ฿ ฤๅษี ๆ"
    assert textfile.decode(thai.encode("cp874")) == (thai, "cp874")
    assert textfile.decode(thai.encode()) == (thai, "utf-8")
    for other in ("naïve", "Ñandú", "résumé"):
        with pytest.raises(textfile.NotText):
            textfile.decode(other.encode("latin-1"))
    assert textfile.separator("a;b,c\nx") == ","
    assert textfile.separator("a\tb;c\nx,y") == "\t"
    assert textfile.separator("a;b\nx,y") == ";"
    assert textfile.separator("a\nx;y") == ","


def test_agency_types_as_people_write_them(app):
    from assess.services.agencies import agency_type

    for text, code in [
        ("ministry", "ministry"),
        (" Ministry ", "ministry"),
        ("PUBLIC-ORG", "public_org"),
        ("state enterprise", "state_enterprise"),
        ("กระทรวง", "ministry"),
        ("องค์กรปกครองส่วนท้องถิ่น", "local"),
        ("อปท.", "local"),
        ("Local administration", "local"),
        ("องค์การมหาชน", "public_org"),
    ]:
        assert agency_type(text) == code, text
    assert agency_type("bureau") is None
    assert agency_type("") is None


def test_agency_import_reads_types_by_name_and_stores_their_codes(app):
    from assess.extensions import db
    from assess.services import agencies

    data = (
        f"{HEADER}\nMOF,กระทรวงการคลัง,,กระทรวง,,,\nMOF-RD,กรมสรรพากร,,Department,MOF,,\n"
        "BMA,กรุงเทพมหานคร,,อปท.,,,\nX,เอ็กซ์,,bureau,,,\n"
    )
    assert problems_of(agencies.import_csv, data.encode("cp874"), "a.csv") == [
        "a.csv:5: agency X: type 'bureau' is not one of ministry, department, province, local, "
        "public_org, state_enterprise, independent"
    ]
    db.session.rollback()
    from flask_babel import force_locale

    with force_locale("th"):
        [thai] = problems_of(agencies.import_csv, data.encode("cp874"), "a.csv")
    assert "ministry (กระทรวง), department (กรม)" in thai
    db.session.rollback()
    good = data.rsplit("X,", 1)[0].encode("cp874")
    assert agencies.import_csv(good, "a.csv").counts == (3, 0, 0)
    db.session.commit()
    found = dict(db.session.execute(select(Agency.code, Agency.type)).all())
    assert found == {"MOF": "ministry", "MOF-RD": "department", "BMA": "local"}
    # The same file again: the names are the stored codes, nothing changed.
    assert agencies.import_csv(good, "a.csv").counts == (0, 0, 3)


def test_text_problem():
    assert text_problem("name", "ชื่อ\tหน่วยงาน", 20) is None  # a tab is allowed
    assert text_problem("name", "x" * 10, 10) is None
    assert text_problem("name", "x" * 11, 10) == (
        "name: the text has 11 characters; at most 10 fit"
    )
    assert text_problem("name", "x" * 1234, None) is None
    assert text_problem("name", "x" * 1234, 1000) == (
        "name: the text has 1,234 characters; at most 1,000 fit"
    )
    for char in ("\x00", "\x1b", "\n", "\r", "\x1f"):
        assert text_problem("name", f"ab{char}", 10) == (
            f"name: the text contains a control character, U+{ord(char):04X}, at character 3; "
            "remove it"
        )


def test_lengths_are_the_models():
    assert column_length(Agency, "name_th") == Agency.__table__.c.name_th.type.length == 300
    assert column_length(Agency, "province") == 100
    assert column_length(User, "email") == 254
    assert column_length(User, "name") == 200
    assert column_length(Agency, "tags") is None  # JSON
    assert column_length(Agency, "parent_code") is None  # no such column


# -- on each database --------------------------------------------------------------------------


def test_agency_import_holds_what_the_columns_hold_and_refuses_more(app):
    from assess.extensions import db
    from assess.services import agencies

    agencies.import_csv(AGENCIES.encode(), "agencies.csv")
    db.session.commit()
    bad = (
        f"{HEADER}\n"
        f"MOF,{'ก' * 301},{'F' * 300},ministry,,{'จ' * 101},\n"
        "MOF-RD,กรม\x00สรรพากร,,department,MOF,Bangkok,\n"
        "NEW-1,ใหม่,,,MOF-RD,Na\x0bn,\n"
    )
    assert problems_of(agencies.import_csv, bad.encode(), "bad.csv") == [
        "bad.csv:2: agency MOF: name_th: the text has 301 characters; at most 300 fit",
        "bad.csv:2: agency MOF: province: the text has 101 characters; at most 100 fit",
        "bad.csv:3: agency MOF-RD: name_th: the text contains a control character, U+0000, "
        "at character 4; remove it",
        "bad.csv:4: agency NEW-1: province: the text contains a control character, U+000B, "
        "at character 3; remove it",
    ]
    db.session.rollback()
    assert db.session.scalar(select(Agency.name_th).filter_by(code="MOF-RD")) == "กรมสรรพากร"
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 2
    good = f"{HEADER}\nMOF,{'ก' * 300},{'F' * 300},ministry,,{'จ' * 100},\n"
    assert agencies.import_csv(good.encode(), "good.csv").counts == (0, 1, 0)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(Agency).filter_by(code="MOF"))
    assert (stored.name_th, stored.name_en, stored.province) == ("ก" * 300, "F" * 300, "จ" * 100)


def test_agency_edit_refuses_text_the_database_cannot_hold(app):
    from assess.extensions import db
    from assess.services import agencies

    agencies.import_csv(AGENCIES.encode(), "agencies.csv")
    db.session.commit()
    revenue = agencies.find_agency("MOF-RD")
    assert problems_of(
        agencies.update_agency, revenue, name_en="Revenue\x00", province="จ" * 101
    ) == [
        "name_en: the text contains a control character, U+0000, at character 8; remove it",
        "province: the text has 101 characters; at most 100 fit",
    ]
    db.session.rollback()
    db.session.expire_all()
    revenue = agencies.find_agency("MOF-RD")
    assert (revenue.name_en, revenue.province) == ("Revenue Department", "Bangkok")
    agencies.update_agency(revenue, name_th="ก" * 300, province="จ" * 100)
    db.session.commit()
    # A code or e-mail with a NUL names nothing (PostgreSQL would refuse the query).
    assert agencies.find_agency("MOF\x00") is None


def test_users_refuse_text_the_database_cannot_hold(app):
    from assess.extensions import db
    from assess.services import agencies, users

    agencies.import_csv(AGENCIES.encode(), "agencies.csv")
    db.session.commit()
    long_email = "a" * 250 + "@x.th"
    assert problems_of(users.create_user, long_email, "reviewer", password="long enough pw") == [
        "email: the text has 255 characters; at most 254 fit"
    ]
    assert problems_of(users.create_user, "a\x00@x.th", "reviewer", name="x\x00") == [
        "email: the text contains a control character, U+0000, at character 2; remove it",
        "name: the text contains a control character, U+0000, at character 2; remove it",
    ]
    assert problems_of(users.create_user, "a@x.th", "reviewer", name="น" * 201) == [
        "name: the text has 201 characters; at most 200 fit"
    ]
    db.session.rollback()
    assert users.find_user("a\x00@x.th") is None
    data = (
        "email,role,agency,name,language\n"
        f"{long_email},reviewer,,,\n"
        f"b@x.th,reviewer,,{'น' * 201},\n"
        "c\x00@x.th,reviewer,,,\n"
        "d@x.th,coordinator,MOF,,e\x00n\n"
    ).encode()
    assert problems_of(users.import_users, data, "users.csv") == [
        "users.csv:2: email: the text has 255 characters; at most 254 fit",
        "users.csv:3: name: the text has 201 characters; at most 200 fit",
        "users.csv:4: email: the text contains a control character, U+0000, at character 2; "
        "remove it",
        "users.csv:5: language: the text contains a control character, U+0000, at character 2; "
        "remove it",
    ]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    fits = "a" * 249 + "@x.th"
    data = f"email,role,name\n{fits},reviewer,{'น' * 200}\n".encode()
    assert len(users.import_users(data, "users.csv").created) == 1
    users.create_user("b" * 249 + "@x.th", "admin", name="น" * 200)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(User.name).filter_by(email=fits)) == "น" * 200
    assert db.session.scalar(select(func.count()).select_from(User)) == 2

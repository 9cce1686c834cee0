"""`multipart/form-data` bodies: a form class per operation, file parts typed as `UploadFile`.

Served by uvicorn on 127.0.0.1 from a package generated from tests/specs/uploads.yaml, with an
implementation (tests/apps/upload_impl.py) that answers with what it was handed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from generator.codegen.output import write_package
from generator.codegen.pipeline import generate_package
from tests.conftest import REPO
from tests.support.server import uvicorn_server

SPEC = REPO / "tests" / "specs" / "uploads.yaml"


@pytest.fixture(scope="module")
def package_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("uploads")
    write_package(root / "uploads_pkg", generate_package(SPEC, "uploads_pkg"))
    return root


@pytest.fixture(scope="module")
def url(package_root: Path) -> Iterator[str]:
    with uvicorn_server("tests.apps.upload_impl:create", extra_paths=(package_root,)) as base:
        yield base


def test_each_field_is_typed_and_file_parts_are_uploads(package_root: Path) -> None:
    api = (package_root / "uploads_pkg" / "api.py").read_text("utf-8")
    assert "class UploadDocumentForm(MultipartForm):" in api
    assert "    title: Annotated[str, Field(min_length=1)]\n" in api
    assert "    pages: Annotated[int, Field(ge=1)] = 1\n" in api  # the declared default
    assert "    file: UploadFile\n" in api
    assert "    attachments: list[UploadFile] | None = None\n" in api
    assert '    x_tag: Annotated[str | None, Field(alias="x-tag")] = None\n' in api
    # An optional body whose one part is an optional image (3.1 `contentMediaType`).
    assert "    image: UploadFile | None = None\n" in api
    assert "body: PutAvatarForm | None = None," in api


def test_text_fields_and_files_reach_the_implementation(url: str) -> None:
    answer = httpx.post(
        f"{url}/documents",
        data={"title": "Report", "pages": "3", "x-tag": "q3"},
        files=[
            ("file", ("report.pdf", b"%PDF-1.7 ...", "application/pdf")),
            ("attachments", ("a.png", b"\x89PNG1", "image/png")),
            ("attachments", ("b.png", b"\x89PNG22", "image/png")),
        ],
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "title": "Report",
        "pages": 3,
        "tag": "q3",
        "files": ["report.pdf:12", "a.png:5", "b.png:6"],
    }


def test_a_field_left_out_takes_its_declared_default(url: str) -> None:
    answer = httpx.post(f"{url}/documents", data={"title": "T"}, files={"file": ("f", b"x")})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"title": "T", "pages": 1, "tag": None, "files": ["f:1"]}


@pytest.mark.parametrize(
    ("data", "files", "detail"),
    [
        ({"title": "Report"}, None, "file"),  # the required file part is missing
        ({"title": "Report", "file": "not a file"}, None, "file"),  # text where a file goes
        ({"title": "", "pages": "3"}, {"file": ("r.pdf", b"x")}, "title"),
        ({"title": "Report", "pages": "zero"}, {"file": ("r.pdf", b"x")}, "pages"),
    ],
)
def test_a_part_that_breaks_the_schema_is_a_declared_422(
    url: str, data: dict[str, str], files: dict[str, tuple[str, bytes]] | None, detail: str
) -> None:
    # httpx sends `data` alone urlencoded: force multipart with a throwaway empty file part.
    parts = files or {"unused": ("", b"")}
    answer = httpx.post(f"{url}/documents", data=data, files=parts)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error_code"] == "VALIDATION_ERROR"
    assert answer.json()["detail"].startswith(detail)


def test_a_body_that_is_not_multipart_is_refused(url: str) -> None:
    urlencoded = httpx.post(f"{url}/documents", data={"title": "Report"})
    assert urlencoded.status_code == 422
    assert urlencoded.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    broken = httpx.post(
        f"{url}/documents",
        content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xyz--\r\n",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert broken.status_code == 422
    assert broken.json()["error_code"] == "MALFORMED_BODY"


def test_an_optional_body_may_be_absent_or_carry_its_file(url: str) -> None:
    assert httpx.put(f"{url}/avatar").json() == {"files": []}
    answer = httpx.put(f"{url}/avatar", files={"image": ("me.png", b"\x89PNG", "image/png")})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"files": ["me.png:4"]}

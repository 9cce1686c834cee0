"""An implementation of tests/specs/uploads.yaml that reports what each multipart body held.

It runs on `uploads_pkg`, which tests/test_multipart_bodies.py generates from that spec.
"""

from __future__ import annotations

from fastapi import FastAPI
from uploads_pkg import UploadsPkgApi, create_app  # type: ignore[import-not-found]
from uploads_pkg import responses as r  # type: ignore[import-not-found]
from uploads_pkg.api import PutAvatarForm, UploadDocumentForm  # type: ignore[import-not-found]


async def _describe(upload: object) -> str:
    content = await upload.read()  # type: ignore[attr-defined]
    return f"{upload.filename}:{len(content)}"  # type: ignore[attr-defined]


class Uploads(UploadsPkgApi):  # type: ignore[misc]
    async def upload_document(self, *, body: UploadDocumentForm) -> object:
        files = [await _describe(body.file)]
        files += [await _describe(each) for each in body.attachments or []]
        received = {"title": body.title, "pages": body.pages, "tag": body.x_tag, "files": files}
        return r.UploadDocument201(body=received)

    async def put_avatar(self, *, body: PutAvatarForm | None = None) -> object:
        files = [await _describe(body.image)] if body is not None and body.image else []
        return r.PutAvatar200(body={"files": files})


def create() -> FastAPI:
    return create_app(Uploads())  # type: ignore[no-any-return]

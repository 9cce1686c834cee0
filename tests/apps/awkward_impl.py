"""An implementation of tests/specs/awkward-names.yaml that echoes what it received."""

from __future__ import annotations

from awkward import AwkwardApi, create_app  # type: ignore[import-not-found]
from awkward import responses as r  # type: ignore[import-not-found]
from awkward.models import Import  # type: ignore[import-not-found]
from fastapi import FastAPI


class Echo(AwkwardApi):  # type: ignore[misc]
    async def meta_root(
        self,
        *,
        class_: str | None = None,
        user_id: str | None = None,
        user_id_2: str | None = None,
        param_2_fa: str | None = None,
    ) -> object:
        seen = f"class={class_} user-id={user_id} user_id={user_id_2} 2fa={param_2_fa}"
        body = Import.model_validate(
            {"def": seen, "self": 1, "@type": "echo", "Name": "upper", "name": "lower"}
        )
        return r.MetaRoot200(body=body)

    async def get_item(self) -> object:
        return r.GetItem204()

    async def get_item_2(self) -> object:
        return r.GetItem_2_204()

    async def get_item_3(self) -> object:
        return r.GetItem_3_204()

    async def cafe(self, *, naive_id: str) -> object:
        return r.Cafe204()


def create() -> FastAPI:
    return create_app(Echo())  # type: ignore[no-any-return]

"""/v1/admin/keys: create, list, read, change and revoke API keys (admin keys).

An admin key with an owner label manages only its owner's keys; other ids are
404 to it, as if they did not exist. The key itself is in the creation answer
only. Money is a decimal string; `spend_usd` is the current period's spend.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from model_router.api.deps import AdminKey, State
from model_router.domain.keys import KeyInfo
from model_router.errors import NotFound, PermissionDenied
from model_router.jsonutil import dumps
from model_router.schemas.keys import KeyCreate, KeyUpdate
from model_router.services import keys as key_service
from model_router.services.keys import key_info, key_object

router = APIRouter(tags=["admin: keys"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such key, or not yours."}}


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def _id(key_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(key_id)
    except ValueError:
        raise NotFound(
            f"No key with id '{key_id[:100]}'.", param="id", code="key_not_found"
        ) from None


async def _full(state: State, users: list[Any]) -> list[dict[str, Any]]:
    """Key objects with their spend (the request log caught up first)."""
    await state.request_log.catch_up()
    spend = await state.governor.spend(state.sessions, [key_info(u) for u in users])
    return [{**key_object(u), **spend[u.id]} for u in users]


def _event(user: Any) -> dict[str, Any]:
    return {
        "key_id": str(user.id),
        "name": user.name,
        "owner": user.owner,
        "prefix": user.key_prefix,
    }


@router.post("/v1/admin/keys", status_code=201, summary="Create a key (shown once)")
async def create_key(spec: KeyCreate, admin: AdminKey, state: State) -> Response:
    if admin.owner is not None:
        if spec.owner is not None and spec.owner != admin.owner:
            raise PermissionDenied(
                "A team admin key creates keys for its own owner only.", param="owner"
            )
        spec = spec.model_copy(update={"owner": admin.owner})
    info, key = await key_service.create_key(state.sessions, spec.name, spec=spec)
    user = await key_service.get_key(state.sessions, info.id)
    state.keys.put(user)
    state.webhooks.emit("key.created", _event(user), user.owner)
    return _json({**(await _full(state, [user]))[0], "key": key}, 201)


@router.get("/v1/admin/keys", summary="Every key this admin key manages")
async def list_keys(admin: AdminKey, state: State) -> Response:
    users = await key_service.list_keys(state.sessions, admin.owner)
    return _json({"data": await _full(state, users)})


@router.get("/v1/admin/keys/{key_id}", responses=NOT_FOUND, summary="One key and its spend")
async def get_key(key_id: str, admin: AdminKey, state: State) -> Response:
    user = await key_service.get_key(state.sessions, _id(key_id), admin.owner)
    return _json((await _full(state, [user]))[0])


@router.patch("/v1/admin/keys/{key_id}", responses=NOT_FOUND, summary="Change a key's settings")
async def update_key(key_id: str, changes: KeyUpdate, admin: AdminKey, state: State) -> Response:
    _own(admin, key_id)
    user = await key_service.update_key(state.sessions, _id(key_id), changes, admin.owner)
    info = state.keys.put(user)
    await state.governor.seed(state.sessions, [info])
    return _json((await _full(state, [user]))[0])


@router.delete("/v1/admin/keys/{key_id}", responses=NOT_FOUND, summary="Revoke a key")
async def revoke_key(key_id: str, admin: AdminKey, state: State) -> Response:
    _own(admin, key_id)
    was_active = (await key_service.get_key(state.sessions, _id(key_id), admin.owner)).is_active
    user = await key_service.revoke_key(state.sessions, key_id, admin.owner)
    state.keys.put(user)
    if was_active:
        state.webhooks.emit("key.revoked", _event(user), user.owner)
    return _json((await _full(state, [user]))[0])


def _own(admin: KeyInfo, key_id: str) -> None:
    """An admin key cannot change or revoke itself (it would lock its owner out)."""
    if str(admin.id) == key_id.lower():
        raise PermissionDenied(
            "An admin key cannot change or revoke itself; use another admin key.",
            param="key_id",
            code="own_key",
        )

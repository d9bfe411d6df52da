"""Personal API tokens over the JSON API: list them (never a secret) and revoke one.

``GET /api/tokens`` lists the caller's tokens (``?clinic=true``: an owner sees every token of the clinic);
``DELETE /api/tokens/{token_id}`` revokes one of the caller's own tokens, or (an owner) any token of the
clinic; anything else is 404. New tokens come from ``dryneedling user token`` or the account page, where
they are shown once.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from dryneedling.records.entities import User
from dryneedling.records.logins import TokenInfo
from dryneedling.services import logins
from dryneedling.web.records import RESPONSES, current_user, no_store, records_store

router = APIRouter(prefix="/api", tags=["tokens"], responses=RESPONSES, dependencies=[Depends(no_store)])


class TokenList(BaseModel):
    items: list[TokenInfo]


@router.get("/tokens", response_model=TokenList, summary="List personal API tokens (never their secrets)")
def list_tokens(
    request: Request,
    clinic: bool = Query(False, description="An owner: every token of the clinic, not only your own"),
    user: User = Depends(current_user),
) -> TokenList:
    return TokenList(items=logins.list_tokens(records_store(request), user, whole_clinic=clinic))


@router.delete("/tokens/{token_id}", response_model=TokenInfo, summary="Revoke a personal API token")
def revoke_token(request: Request, token_id: uuid.UUID, user: User = Depends(current_user)) -> TokenInfo:
    return logins.revoke_token(records_store(request), user, token_id)

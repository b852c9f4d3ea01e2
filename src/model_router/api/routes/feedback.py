"""POST /v1/feedback: a score for one of the caller's own requests.

Only the key that made the request may rate it; any other key gets 404, as
if the request did not exist. Posting again replaces the score.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from model_router.api.deps import CurrentKey, FreshLog, State
from model_router.errors import NotFound
from model_router.jsonutil import dumps
from model_router.schemas.experiments import FeedbackIn, FeedbackOut
from model_router.services.experiments import save_feedback

router = APIRouter(tags=["experiments"])


@router.post(
    "/v1/feedback",
    response_model=FeedbackOut,
    status_code=201,
    summary="Rate one of your requests",
    responses={404: {"description": "No such request, or not yours."}},
)
async def post_feedback(
    feedback: FeedbackIn, key: CurrentKey, state: State, _fresh: FreshLog
) -> Response:
    saved = await save_feedback(state.sessions, key.id, feedback)
    if saved is None:
        raise NotFound(
            f"No request with id '{feedback.request_id}' made with this key.",
            param="request_id",
            code="request_not_found",
        )
    state.learned.feedback(feedback.request_id, feedback.score)  # a pool's decision learns
    return Response(dumps(saved.model_dump()), status_code=201, media_type="application/json")

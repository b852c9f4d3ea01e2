"""A/B experiments: POST/GET/PATCH /v1/admin/experiments (admin keys), and
GET /v1/analytics/experiments/{id}, each variant's numbers and significance."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from starlette.responses import Response

from model_router.api.deps import AdminKey, FreshLog, State
from model_router.errors import NotFound
from model_router.jsonutil import dumps
from model_router.schemas.experiments import (
    ExperimentCreate,
    ExperimentList,
    ExperimentOut,
    ExperimentPatch,
    ExperimentReport,
)
from model_router.services.experiment_stats import experiment_report
from model_router.services.experiments import variant_samples

router = APIRouter(tags=["experiments"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such experiment."}}


def _json(model: BaseModel, status: int = 200) -> Response:
    return Response(dumps(model.model_dump()), status_code=status, media_type="application/json")


def _id(experiment_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(experiment_id)
    except ValueError:
        raise NotFound(
            f"No experiment with id '{experiment_id[:100]}'.",
            param="experiment_id",
            code="experiment_not_found",
        ) from None


@router.post(
    "/v1/admin/experiments",
    response_model=ExperimentOut,
    status_code=201,
    summary="Start an experiment",
)
async def create_experiment(spec: ExperimentCreate, _admin: AdminKey, state: State) -> Response:
    experiment = await state.experiments.create(spec)
    return _json(experiment.out(), 201)


@router.get("/v1/admin/experiments", response_model=ExperimentList, summary="Every experiment")
async def list_experiments(_admin: AdminKey, state: State) -> Response:
    return _json(ExperimentList(experiments=[e.out() for e in state.experiments.all()]))


@router.get(
    "/v1/admin/experiments/{experiment_id}",
    response_model=ExperimentOut,
    summary="One experiment",
    responses=NOT_FOUND,
)
async def get_experiment(experiment_id: str, _admin: AdminKey, state: State) -> Response:
    return _json(state.experiments.get(_id(experiment_id)).out())


@router.patch(
    "/v1/admin/experiments/{experiment_id}",
    response_model=ExperimentOut,
    summary="Change, stop or restart an experiment",
    responses=NOT_FOUND,
)
async def update_experiment(
    experiment_id: str, patch: ExperimentPatch, _admin: AdminKey, state: State
) -> Response:
    experiment = await state.experiments.update(_id(experiment_id), patch)
    return _json(experiment.out())


@router.get(
    "/v1/analytics/experiments/{experiment_id}",
    response_model=ExperimentReport,
    summary="Per variant: requests, cost, latency, errors, feedback, significance",
    responses=NOT_FOUND,
)
async def experiment_analytics(
    experiment_id: str, _admin: AdminKey, state: State, _fresh: FreshLog
) -> Response:
    experiment = state.experiments.get(_id(experiment_id))
    async with state.sessions() as session:
        samples = await variant_samples(session, experiment.id)
    return _json(experiment_report(experiment, samples))

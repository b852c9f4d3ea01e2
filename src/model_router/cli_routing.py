"""`model-router routing report --pool NAME --days N`: a learned pool's report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from model_router.schemas.learned_routing import (
        PolicyValue,
        PoolReport,
        QualityEstimate,
        UsdEstimate,
    )


@click.group()
def routing() -> None:
    """Learned routing pools."""


def _q(value: QualityEstimate | None) -> str:
    if value is None:
        return "n/a"
    if value.low is None or value.high is None:
        return f"{value.estimate:.3f} (n={value.samples})"
    return f"{value.estimate:.3f} [{value.low:.3f}, {value.high:.3f}] (n={value.samples})"


def _usd(value: UsdEstimate | None) -> str:
    if value is None:
        return "n/a"
    text = f"${value.estimate:.6f}"
    if value.low is not None and value.high is not None:
        text += f" [{value.low:.6f}, {value.high:.6f}]"
    return text


def _value(value: PolicyValue, indent: str) -> list[str]:
    return [
        f"{indent}cost/request: policy {_usd(value.policy_cost_per_request_usd)}, "
        f"{value.default_model} {_usd(value.default_cost_per_request_usd)}",
        f"{indent}savings: {_usd(value.savings_per_request_usd)} per request, "
        f"{_usd(value.savings_total_usd)} in all",
        f"{indent}quality: policy {_q(value.policy_quality)}, "
        f"{value.default_model} {_q(value.default_quality)}, "
        f"difference {_q(value.quality_difference)}",
    ]


def render(report: PoolReport) -> str:
    """The report as text, 95 % intervals in brackets."""
    lines = [
        f"pool {report.pool}: {report.requests} decisions in {report.days} day(s), "
        f"default {report.default_model}",
        f"  explored {report.explored} ({report.explored_share:.1%}), "
        f"exploration spend ${report.exploration_spend_usd:f}",
        *_value(report.overall, "  "),
    ]
    if report.overall.default_never_possible:
        lines.append(
            f"  note: in {report.overall.default_never_possible} decisions the default could "
            "not be chosen (exploration budget spent); estimates do not cover them"
        )
    for item in report.classes:
        lines.append(f"\nclass {item.task_class}: {item.requests} decisions")
        for model in item.models:
            lines.append(
                f"    {model.model:<28} {model.share:6.1%}  quality {_q(model.quality)}  "
                f"cost/request {_usd(model.cost_per_request_usd)}"
            )
        lines.extend(_value(item.value, "    "))
    return "\n".join(lines)


@routing.command()
@click.option("--pool", "pool_name", required=True, help="The pool's name in the routing file.")
@click.option("--days", type=click.IntRange(1, 3650), default=7, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON (as the API gives it).")
def report(pool_name: str, days: int, as_json: bool) -> None:
    """Per class: models chosen, quality, cost, and savings against the default."""
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from model_router.cli import _run, load_settings
    from model_router.jsonutil import dumps
    from model_router.routing.config import RoutingConfigError, load_config
    from model_router.routing.learned.report import build_report
    from model_router.routing.learned.store import SqlStore

    settings = load_settings()
    try:
        config = load_config(settings.router_config)
    except RoutingConfigError as exc:
        raise click.ClickException(str(exc)) from None
    pool = config.pools.get(pool_name)
    if pool is None:
        known = ", ".join(sorted(config.pools)) or "none"
        raise click.ClickException(f"no pool '{pool_name}' in the routing file (pools: {known})")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> PoolReport:
        engine = sessions.kw.get("bind")
        assert isinstance(engine, AsyncEngine)
        records = await SqlStore(engine).decisions(pool_name, days)
        return build_report(pool_name, pool.baseline(config.default_model), records, days=days)

    result = _run(work)
    click.echo(dumps(result.model_dump()).decode() if as_json else render(result))

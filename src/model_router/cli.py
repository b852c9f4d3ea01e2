"""The `model-router` command."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from model_router.errors import RouterError
from model_router.settings import Settings

# The database layer is imported by the commands that use it: `serve` with
# several workers keeps it out of the supervising process.
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    Sessions = async_sessionmaker[AsyncSession]

T = TypeVar("T")


def _run(work: Callable[[Sessions], Awaitable[T]]) -> T:
    """Run one piece of async work with a fresh engine, and dispose of it."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from model_router.db.engine import make_engine

    async def main() -> T:
        engine = make_engine(load_settings().async_database_url)
        try:
            return await work(async_sessionmaker(engine, expire_on_commit=False))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except RouterError as exc:
        raise click.ClickException(exc.message) from None


def _decimal(_ctx: Any, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number", param=param) from None
    if amount < 0 or not amount.is_finite():
        raise click.BadParameter("must be a non-negative number", param=param)
    return amount


@click.group()
def main() -> None:
    """model-router: an OpenAI-compatible LLM gateway with exact cost tracking."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: PORT or 8001).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, help="Worker processes.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API."""
    import uvicorn

    from model_router.workers import preload, serve_workers, server_config

    settings = load_settings()
    config = server_config(settings, host, port)
    with metrics_directory(settings, workers) as metrics_dir:
        if workers > 1:
            try:
                status = serve_workers(config, workers, metrics_dir)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot listen on {config.host}:{config.port}: {exc}"
                ) from None
            raise SystemExit(status)
        preload(config)
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise SystemExit(3)


def load_settings() -> Settings:
    """The settings, or an exit naming each bad setting and why."""
    from pydantic import ValidationError

    from model_router.observability.lifecycle import config_error_message

    try:
        settings = Settings()
        settings.async_database_url  # noqa: B018 (validates DATABASE_URL's scheme)
    except ValidationError as exc:
        raise click.ClickException(config_error_message(exc)) from None
    except ValueError as exc:
        raise click.ClickException(f"invalid configuration: {exc}") from None
    return settings


@contextmanager
def metrics_directory(settings: Settings, workers: int) -> Iterator[Path | None]:
    """Several workers share their metrics through files in one directory
    (prometheus-client's multi-process mode, chosen by PROMETHEUS_MULTIPROC_DIR
    before the workers import it). A directory of our own is removed at exit."""
    chosen = settings.prometheus_multiproc_dir
    if chosen is None and workers == 1:
        yield None
        return
    own = chosen is None
    directory = Path(tempfile.mkdtemp(prefix="model-router-metrics-")) if own else chosen
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # values of a previous run
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        yield directory
    finally:
        if own:
            shutil.rmtree(directory, ignore_errors=True)


@main.group()
def db() -> None:
    """Database schema."""


def upgrade_database(url: str | None = None) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "db" / "migrations"))
    config.set_main_option("sqlalchemy.url", url or Settings().async_database_url)
    command.upgrade(config, "head")


@db.command()
def upgrade() -> None:
    """Apply every migration (idempotent)."""
    upgrade_database()
    click.echo("database is up to date")


@main.group(name="models")
def models_group() -> None:
    """The model catalogue and its prices."""


@models_group.command()
def sync() -> None:
    """Load providers, models and prices from the bundled price source (idempotent)."""
    from model_router.services.catalogue_admin import sync_catalogue

    report = _run(sync_catalogue)
    click.echo(
        f"providers added: {report.providers_added}; models added: {report.models_added}, "
        f"updated: {report.models_updated}, kept (operator prices): {report.models_kept}"
    )


@models_group.command(name="list")
def list_models() -> None:
    """Show the catalogue with prices per 1M tokens."""
    from model_router.costs.models import Catalogue

    async def work(sessions: Sessions) -> None:
        catalogue = Catalogue(sessions, Settings())
        await catalogue.load()
        click.echo(f"{'MODEL':32} {'PROVIDER':12} {'INPUT':>10} {'CACHED':>10} {'OUTPUT':>10}")
        for m in catalogue.list_models():
            base = m.price.base if m.price else None
            cells = [base.input, base.cached_input, base.output] if base else [None] * 3
            prices = " ".join(f"{'-' if v is None else v:>10}" for v in cells)
            click.echo(f"{m.name:32} {m.provider:12} {prices}")

    _run(work)


@models_group.command(name="add")
@click.argument("model_id")
@click.option("--provider", required=True)
@click.option("--upstream-model", default=None, help="Name the provider knows it by.")
@click.option("--input-price", callback=_decimal, help="USD per 1M input tokens.")
@click.option("--output-price", callback=_decimal, help="USD per 1M output tokens.")
@click.option("--cached-input-price", callback=_decimal, help="USD per 1M cached input tokens.")
@click.option("--context-window", type=click.IntRange(1), default=None)
@click.option("--max-output-tokens", type=click.IntRange(1), default=None)
def add_model(model_id: str, provider: str, upstream_model: str | None, **prices: Any) -> None:
    """Add (or replace) a model of a provider, with the operator's prices."""
    from model_router.services.catalogue_admin import ModelSpec, add_model

    spec = ModelSpec(
        provider=provider,
        model_id=model_id,
        upstream_model=upstream_model,
        input_price=prices["input_price"],
        output_price=prices["output_price"],
        cached_input_price=prices["cached_input_price"],
        context_window=prices["context_window"],
        max_output_tokens=prices["max_output_tokens"],
    )
    _run(lambda s: add_model(s, spec))
    click.echo(f"model {model_id} ({provider}) saved")


@models_group.command(name="set-price")
@click.argument("model_id")
@click.option("--provider", default=None)
@click.option("--input-price", callback=_decimal)
@click.option("--output-price", callback=_decimal)
@click.option("--cached-input-price", callback=_decimal)
@click.option("--cache-write-price", callback=_decimal)
def set_price_cmd(model_id: str, provider: str | None, **prices: Decimal | None) -> None:
    """Override a model's prices (USD per 1M tokens); sync keeps them."""
    from model_router.services.catalogue_admin import set_price

    _run(lambda s: set_price(s, model_id, provider=provider, **prices))
    click.echo(f"prices of {model_id} updated")


@main.group()
def providers() -> None:
    """Upstream providers."""


@providers.command(name="add")
@click.argument("name")
@click.option("--base-url", required=True, help="e.g. https://api.groq.com/openai/v1")
@click.option(
    "--api-key-setting", required=True, help="Env variable with the key, e.g. GROQ_API_KEY"
)
@click.option("--protocol", type=click.Choice(["openai", "anthropic", "gemini"]), default="openai")
@click.option("--auth-header", default="authorization", help="'api-key' for Azure OpenAI.")
def add_provider_cmd(
    name: str, base_url: str, api_key_setting: str, protocol: str, auth_header: str
) -> None:
    """Add (or update) an OpenAI-compatible (or other) provider."""
    from model_router.services.catalogue_admin import add_provider

    _run(
        lambda s: add_provider(
            s,
            name,
            base_url=base_url,
            api_key_setting=api_key_setting,
            protocol=protocol,
            auth_header=auth_header.lower(),
        )
    )
    click.echo(f"provider {name} saved")


@main.group()
def keys() -> None:
    """API keys."""


def _key_options(command: Callable[..., None]) -> Callable[..., None]:
    """The governance options `keys create` and `keys update` share."""
    options = [
        click.option("--owner", default=None, help="Owner or team label."),
        click.option(
            "--allowed-model",
            "allowed_models",
            multiple=True,
            help="A model name or pattern ('gpt-4o*'); repeat for more. Default: any.",
        ),
        click.option("--rpm", "rpm_limit", type=int, default=None, help="Requests per minute."),
        click.option("--tpm", "tpm_limit", type=int, default=None, help="Tokens per minute."),
        click.option("--budget", "budget_usd", default=None, help="USD, e.g. 25.50."),
        click.option("--budget-period", type=click.Choice(["day", "month", "total"]), default=None),
        click.option("--expires-at", default=None, help="ISO time, e.g. 2027-01-01T00:00:00Z."),
        click.option("--metadata", default=None, help="A JSON object."),
        click.option(
            "--store-text/--no-store-text",
            default=None,
            help="Whether this key's prompts and responses are stored.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _key_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """CLI values as the admin API's fields (only those given)."""
    import json

    fields = {k: v for k, v in raw.items() if v is not None and v != ()}
    if "allowed_models" in fields:
        fields["allowed_models"] = list(fields["allowed_models"])
    if "metadata" in fields:
        try:
            fields["metadata"] = json.loads(fields["metadata"])
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--metadata") from None
    return fields


def _validated(model: Any, fields: dict[str, Any]) -> Any:
    """The admin API's validation, as a CLI usage error naming the option."""
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        flag = {"rpm_limit": "rpm", "tpm_limit": "tpm", "budget_usd": "budget"}.get(name, name)
        raise click.BadParameter(first["msg"], param_hint=f"--{flag.replace('_', '-')}") from None


@keys.command(name="create")
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, help="May manage keys and read everyone's analytics.")
@_key_options
def create_key_cmd(name: str, admin: bool, **raw: Any) -> None:
    """Create a key; it is printed once, alone on the last line."""
    from model_router.schemas.keys import KeyCreate
    from model_router.services.keys import create_key

    spec = _validated(KeyCreate, {"name": name, "is_admin": admin, **_key_fields(raw)})

    async def work(sessions: Sessions) -> tuple[Any, str]:
        from model_router.services.webhooks.dispatcher import emit_stored

        info, key = await create_key(sessions, name, spec=spec)
        event = {"key_id": str(info.id), "name": name, "owner": info.owner, "prefix": info.prefix}
        await emit_stored(sessions, "key.created", event, info.owner)
        return info, key

    info, key = _run(work)
    click.echo(f"created {'admin ' if admin else ''}key {info.id} ({info.prefix}…) for {name}")
    click.echo(key)


@keys.command(name="update")
@click.argument("key_id")
@click.option("--name", default=None)
@_key_options
def update_key_cmd(key_id: str, name: str | None, **raw: Any) -> None:
    """Change a key's settings (only the options given)."""
    import uuid

    from model_router.schemas.keys import KeyUpdate
    from model_router.services.keys import update_key

    fields = _key_fields({"name": name, **raw})
    changes = _validated(KeyUpdate, fields)
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        raise click.BadParameter("not a key id", param_hint="KEY_ID") from None
    user = _run(lambda s: update_key(s, parsed, changes))
    click.echo(f"updated key {user.id} ({user.key_prefix}…)")


@keys.command(name="list")
def list_keys_cmd() -> None:
    """List keys (prefixes only; keys are stored hashed)."""
    from model_router.services.keys import list_keys

    click.echo(
        f"{'ID':36}  {'PREFIX':10}  {'ADMIN':5}  {'ACTIVE':6}  {'RPM':>6}  {'TPM':>8}  "
        f"{'BUDGET':>12}  {'OWNER':12}  NAME"
    )
    for u in _run(list_keys):
        budget = f"{u.budget_usd}/{u.budget_period}" if u.budget_usd is not None else "-"
        click.echo(
            f"{u.id!s:36}  {u.key_prefix:10}  {u.is_admin!s:5}  {u.is_active!s:6}  "
            f"{u.rpm_limit or '-':>6}  {u.tpm_limit or '-':>8}  {budget:>12}  "
            f"{u.owner or '-':12}  {u.name}"
        )


@keys.command(name="revoke")
@click.argument("key_id_or_prefix")
def revoke_key_cmd(key_id_or_prefix: str) -> None:
    """Revoke a key by id or display prefix."""
    from model_router.services.keys import revoke_key
    from model_router.services.webhooks.dispatcher import emit_stored

    async def work(sessions: Sessions) -> Any:
        user = await revoke_key(sessions, key_id_or_prefix)
        event = {
            "key_id": str(user.id),
            "name": user.name,
            "owner": user.owner,
            "prefix": user.key_prefix,
        }
        await emit_stored(sessions, "key.revoked", event, user.owner)
        return user

    user = _run(work)
    click.echo(f"revoked key {user.id} ({user.key_prefix}…)")


@main.command()
def bootstrap() -> None:
    """Migrate, sync the catalogue, and create an admin key if there is none."""
    from model_router.services.catalogue_admin import sync_catalogue
    from model_router.services.keys import count_keys, create_key

    upgrade_database()
    _run(sync_catalogue)
    if _run(count_keys) == 0 and not Settings().admin_api_key:
        _, key = _run(lambda s: create_key(s, "admin", admin=True))
        click.echo("No API key existed, so an admin key was created. It is shown only once:")
        click.echo(f"\n    {key}\n")
    click.echo("ready")


@main.command(name="demo-data")
@click.option("--rows", type=click.IntRange(1, 50_000_000), required=True, help="Requests to add.")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Spread over the last DAYS days.",
)
@click.option(
    "--users",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Demo keys: users demo-1..demo-USERS, made if missing.",
)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Same seed, same rows (ids apart)."
)
def demo_data(rows: int, days: int, users: int, seed: int) -> None:
    """Fill the request log with realistic demo traffic.

    Over the catalogue's models (synced first if it is empty), with a daily
    rhythm, ~5% errors, ~30% streams and exact costs; ~85% of rows tagged with
    the user's team and an env (some a feature), through the chat, messages
    and responses front doors. On PostgreSQL a large load locks the requests
    table until it is done.
    """
    import time

    from model_router.services.demo_data import generate_demo_data

    last = 0.0

    def progress(done: int, total: int, seconds: float) -> None:
        nonlocal last
        if done == total or time.monotonic() - last >= 2:
            last = time.monotonic()
            rate = done / seconds if seconds > 0 else 0
            click.echo(
                f"  {done:>12,} / {total:,} rows  {seconds:6.1f} s  {rate:9,.0f} rows/s", err=True
            )

    report = _run(
        lambda s: generate_demo_data(
            s,
            rows=rows,
            days=days,
            users=users,
            seed=seed,
            progress=progress,
            note=lambda message: click.echo(f"  {message}", err=True),
        )
    )
    click.echo(
        f"added {report.rows:,} requests ({report.errors:,} errors) to {report.backend} "
        f"in {report.seconds:.1f} s: {report.rows_per_second:,.0f} rows/s"
    )
    click.echo(
        f"from {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC, "
        f"{report.models} models, {users} demo users ({report.users_created} new)"
    )


def _add_commands() -> None:
    from model_router.cli_log import log_group
    from model_router.cli_routing import routing

    main.add_command(routing)
    main.add_command(log_group)


_add_commands()

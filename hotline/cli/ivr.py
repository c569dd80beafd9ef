"""`hotline ivr`: run the FastAGI IVR alone, check its menus, make and check its prompt files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hotline.cli.common import config_errors_exit

if TYPE_CHECKING:
    from ivr.menu_config import IvrFile
    from settings.env import Settings
    from settings.files import HotlineConfig

ivr_app = typer.Typer(
    help="The IVR (FastAGI voice menus): run it alone, check config/ivr.yaml, prompt files.",
    invoke_without_command=True,
)
prompts_app = typer.Typer(help="Prompt sound files (named files with their text in config/ivr.yaml).")
ivr_app.add_typer(prompts_app, name="prompts")


def _load() -> tuple[Settings, HotlineConfig, IvrFile]:
    """Settings, the other config files and ivr.yaml, or exit 2 with every problem listed."""
    from ivr.menu_checks import load_ivr_config
    from settings.env import load_settings
    from settings.files import load_config

    with config_errors_exit():
        settings = load_settings()
        hotline = load_config(settings.config_dir)
        return settings, hotline, load_ivr_config(settings.config_dir, hotline)


@ivr_app.callback()
def ivr(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (HOTLINE_AGI_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (HOTLINE_AGI_PORT)")] = None,
) -> None:
    """Without a sub-command: serve `agi://HOST:PORT/ivr` and `/survey` until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    import asyncio
    import signal

    import redis.asyncio as aioredis

    from hotline.bootstrap import build_context
    from hotline.supervise import IVR_ALIVE_KEY, announce_alive, ivr_alive_payload
    from ivr.app import start_ivr_server
    from storage.migrate import current_revision

    with config_errors_exit():
        context = build_context()
    if current_revision(context.engine) is None:
        context.close()
        typer.echo("the database has no schema yet: run `hotline setup` (or `hotline db upgrade`) first", err=True)
        raise typer.Exit(2)
    host = host or context.settings.agi_host
    port = port or context.settings.agi_port

    async def run() -> None:
        server = await start_ivr_server(context, host, port)
        typer.echo(f"IVR listening on agi://{host}:{port}/ivr (survey: agi://{host}:{port}/survey)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        client = aioredis.Redis.from_url(context.redis.url)
        node = context.settings.node
        payload = ivr_alive_payload(node, host, port)
        alive = asyncio.create_task(announce_alive(client, IVR_ALIVE_KEY.format(node=node), payload))
        await stop.wait()
        alive.cancel()
        await client.aclose()
        # Calls in the menus finish (up to the grace period); new ones are refused meanwhile.
        server.close()
        await server.wait_closed()

    try:
        with config_errors_exit():
            asyncio.run(run())
    except OSError as exc:
        typer.echo(f"cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        context.close()


@ivr_app.command("check")
def check() -> None:
    """Check config/ivr.yaml against the other files and list prompt files that are missing."""
    from ivr.prompts import PromptFiles, missing_prompt_files

    _, _, config = _load()
    missing = missing_prompt_files(config, PromptFiles.from_config(config))
    typer.echo(f"ivr.yaml OK: {len(config.nodes)} nodes, {len(config.prompts)} prompts")
    if missing:
        typer.echo(f"{len(missing)} prompt files missing (`hotline ivr prompts generate` makes placeholders)")


@prompts_app.command("check")
def prompts_check() -> None:
    """List every prompt the menus can play that has no sound file (exit 1 when any)."""
    from ivr.prompts import PromptFiles, missing_prompt_files

    _, _, config = _load()
    files = PromptFiles.from_config(config)
    missing = missing_prompt_files(config, files)
    for name, language, path in missing:
        typer.echo(f"missing: {name} ({language}) {path}")
    if missing:
        typer.echo(f"{len(missing)} prompt files missing under {files.dir}", err=True)
        raise typer.Exit(1)
    typer.echo(f"all prompt files present under {files.dir}")


@prompts_app.command("generate")
def prompts_generate(
    force: Annotated[bool, typer.Option(help="Regenerate files that exist too")] = False,
) -> None:
    """Make placeholder prompt files from their text (espeak-ng, sox → 8 kHz WAV)."""
    from ivr.prompt_audio import PromptAudioError, generate_prompts
    from ivr.prompts import PromptFiles

    _, _, config = _load()
    files = PromptFiles.from_config(config)
    try:
        result = generate_prompts(config, files, force=force)
    except PromptAudioError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for name, language, why in result.skipped:
        typer.echo(f"skipped: {name} ({language}): {why}")
    typer.echo(f"{len(result.created)} prompt files written under {files.dir}")

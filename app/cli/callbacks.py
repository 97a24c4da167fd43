"""`reverse-otp callbacks`: run the worker, list, retry, prune."""

from __future__ import annotations

import json
import signal

import click

from app.cli.runtime import open_runtime


@click.group("callbacks")
def callbacks_group() -> None:
    """Deliver signed callbacks from the outbox."""


@callbacks_group.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def run(once: bool) -> None:
    """Run the delivery worker in this process until stopped (SIGTERM or Ctrl-C)."""

    from app.workers import jobs
    from app.workers.delivery import deliverer_for

    with open_runtime() as rt:
        if once:
            jobs.expire(rt, rt.settings.expiry.batch_size)
            worker = deliverer_for(rt.settings, rt.ctx)
            while worker.run_once():
                pass
            return
        scheduler = jobs.for_callbacks(rt)
        signal.signal(signal.SIGTERM, lambda *_: scheduler.stop())
        signal.signal(signal.SIGINT, lambda *_: scheduler.stop())
        click.echo("delivering callbacks", err=True)
        scheduler.run()


@callbacks_group.command("list")
@click.option("--state", type=click.Choice(["pending", "delivered", "abandoned"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_callbacks(state: str | None, limit: int, as_json: bool) -> None:
    """List recent callbacks, newest first, with their delivery state and last error."""
    with open_runtime() as rt:
        rows = rt.ctx.store.list_callbacks(state, limit)
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    for r in rows:
        click.echo(
            f"{r['event_id']}  {r['event_type']}  {r['state']}  attempts={r['attempts']}  "
            f"status={r['last_status'] or '-'}  error={r['last_error'] or '-'}"
        )


@callbacks_group.command("retry")
@click.argument("event_id")
def retry(event_id: str) -> None:
    """Send a delivered or abandoned callback again (same event id, a fresh 24-hour window)."""
    with open_runtime() as rt:
        if not rt.ctx.store.retry_callback(event_id, rt.ctx.clock.now()):
            raise click.ClickException(f"no delivered or abandoned callback {event_id}")
    click.echo(f"queued {event_id}")


@callbacks_group.command("prune")
@click.option("--days", type=int, default=30, show_default=True, help="Keep this many days.")
def prune(days: int) -> None:
    """Delete delivered and abandoned callbacks that ended more than `days` days ago."""
    from datetime import timedelta

    with open_runtime() as rt:
        count = rt.ctx.store.prune_callbacks(rt.ctx.clock.now() - timedelta(days=days))
    click.echo(f"deleted {count} callback(s)")

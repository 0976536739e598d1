"""The worker's wiring: its jobs run the inbox with the resources it opens at start-up."""

import stripe
from httpx import AsyncClient

from billing.config import Settings
from billing.worker import (
    Context,
    _shutdown,
    _startup,
    is_worker_alive,
    process_inbox,
    prune_inbox,
    sweep_inbox,
    worker_options,
)
from tests.factories import confirm_with_card, deliver, new_tenant, start_payment, stripe_event


async def test_the_worker_jobs_drain_the_inbox(
    committing_client: AsyncClient, stripe_client: stripe.StripeClient, settings: Settings
) -> None:
    client = committing_client
    tenant = await new_tenant(client)
    payment = await start_payment(client, tenant)
    intent = await confirm_with_card(stripe_client, payment["stripe_payment_intent_id"])
    await deliver(client, stripe_event("payment_intent.succeeded", intent))

    ctx: Context = {"settings": settings}
    await _startup(ctx)
    try:
        assert await process_inbox(ctx) == 1
        assert await sweep_inbox(ctx) == 0
        assert await prune_inbox(ctx) == 0
    finally:
        await _shutdown(ctx)
    response = await client.get(
        f"/organizations/{tenant.id}/payments/{payment['id']}", headers=tenant.owner
    )
    assert response.json()["status"] == "succeeded"
    assert response.json()["credits_granted"] == 100


def test_the_inbox_runs_every_second_and_never_twice_at_once(settings: Settings) -> None:
    options = worker_options(settings)
    [inbox_job] = [job for job in options["cron_jobs"] if job.name.endswith("process_inbox")]
    assert inbox_job.second == set(range(60))
    assert inbox_job.unique


async def test_no_worker_is_alive_when_none_runs(settings: Settings) -> None:
    assert await is_worker_alive(settings) is False

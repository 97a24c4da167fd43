"""Event buses and the live status stream."""

from app.config import schema
from app.events.base import EventBus, FinalStatuses
from app.events.memory import MemoryBus
from app.events.poller import PollingBus, StatusPoller


def make_bus(settings: schema.Settings, store: FinalStatuses) -> EventBus:
    """Return the bus the settings name; both kinds poll the database when needed."""
    events = settings.events
    local = MemoryBus()
    if events.backend == "redis":
        from app.events.redisbus import RedisBus

        interval = events.poll_interval or 0.5
        fallback = StatusPoller(local, store.final_statuses, interval, active=False)
        return RedisBus(events.redis_url, events.redis_channel, local, fallback)
    if events.poll_interval <= 0:
        return local
    return PollingBus(local, StatusPoller(local, store.final_statuses, events.poll_interval))

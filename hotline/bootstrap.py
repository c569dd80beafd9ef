"""Builds everything a process needs from settings, in one place; nothing connects at import."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.redis_conn import RedisHandle, connect_redis
from settings.calendar import build_calendar, warn_missing_years
from settings.env import Settings, load_settings
from settings.files import HotlineConfig, load_config
from storage.db import make_engine, make_session_factory
from ticketing.domain.policy import TicketPolicy
from ticketing.domain.routing import KeywordRouter

logger = logging.getLogger(__name__)


@dataclass
class Context:
    settings: Settings
    config: HotlineConfig
    engine: Engine
    sessions: sessionmaker[Session]
    redis: RedisHandle
    policy: TicketPolicy
    _router: KeywordRouter | None = field(default=None, repr=False)
    _router_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _model_checked: float = field(default=-1e9, repr=False)

    @property
    def router(self) -> KeywordRouter:
        """The router, built on first use: loading jieba's dictionary takes a second or so. It
        decides with the active learned model, checked for a newer one every RELOAD_SECONDS."""
        from ticketing.routing.versions import RELOAD_SECONDS

        with self._router_lock:
            if self._router is None:
                self._router = build_router(self.config)
            if time.monotonic() - self._model_checked >= RELOAD_SECONDS:
                self._model_checked = time.monotonic()
                self._sync_model(self._router)
            return self._router

    def _sync_model(self, router: KeywordRouter) -> None:
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from storage.tables import RoutingModel
        from ticketing.routing.versions import ACTIVE, load_active

        current = router.model.version if router.model is not None else None
        try:
            with self.sessions() as session:
                active = session.scalar(select(RoutingModel.version).where(RoutingModel.status == ACTIVE))
                if active == current:
                    return
                model = load_active(session, self.config.routing.target_precision) if active else None
        except SQLAlchemyError as exc:
            logger.warning("could not check the router's active model (keeping %s): %s", current or "the rules", exc)
            return
        router.use_model(model)
        logger.info("router now decides with %s", f"model {active}" if model else "the keyword rules alone")

    def close(self) -> None:
        self.redis.close()
        self.engine.dispose()


def ticket_policy(settings: Settings, config: HotlineConfig) -> TicketPolicy:
    tz = ZoneInfo(settings.timezone)
    calendar = build_calendar(config.service_hours.calendar)
    warn_missing_years(calendar, datetime.now(tz).date())
    categories = config.categories
    return TicketPolicy(
        calendar=calendar,
        tz=tz,
        accept_days=categories.accept_days,
        callback_days=categories.callback_days,
        finish_days={c.name: c.finish_days for c in categories.categories},
        categories={c.name: frozenset(c.subcategories) for c in categories.categories},
    )


def build_router(config: HotlineConfig) -> KeywordRouter:
    """The one place a router is made: rules and stations from config/, jieba, phone areas."""
    from settings.routing import place_index, routing_rules
    from ticketing.routing.phone_region import phone_region
    from ticketing.routing.segmenter import JiebaSegmenter

    started = time.perf_counter()
    rules = routing_rules(config.routing, config.categories)
    places = place_index(config.routing, config.stations.root)
    segmenter = JiebaSegmenter(rules.vocabulary() | places.vocabulary(), places=places.names())
    router = KeywordRouter(rules, places, segmenter, phone_region)
    phone_region("13800000000")  # loads the geocoder's data now rather than on the first call
    logger.info("router built in %.1f s", time.perf_counter() - started)
    return router


def build_context(settings: Settings | None = None, redis: RedisHandle | None = None) -> Context:
    """Load settings and config (raising ConfigError on any problem), then connect."""
    settings = settings or load_settings()
    config = load_config(settings.config_dir)
    policy = ticket_policy(settings, config)
    engine = make_engine(settings.effective_database_url)
    redis = redis or connect_redis(settings.redis_url, settings.data_dir)
    return Context(settings, config, engine, make_session_factory(engine), redis, policy)

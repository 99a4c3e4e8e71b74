"""The register: one object that bundles the database, the vault and every store."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.sealing.vault import Vault
from models.services.access import AccessCodes
from models.services.alerts import ClusterRule, StaffAlerts
from models.services.audit import AuditLog
from models.services.drafts import DraftStore
from models.services.export import Exporter
from models.services.filing import Enrichment
from models.services.followup import FollowUp
from models.services.geocoding import Geocoder
from models.services.hotspots import HotspotFinder
from models.services.listing import ReportListing
from models.services.mapping import MapPoints
from models.services.nominatim import Nominatim
from models.services.outbox import Outbox
from models.services.places import Gazetteer
from models.services.police import PoliceReferences
from models.services.recovery import Recovery
from models.services.recovery_previews import RecoveryPreviews
from models.services.reindex import Reindexer
from models.services.reports import ReportStore
from models.services.retention import Retention
from models.services.rotation import KeyRotation
from models.services.search import StaffSearch
from models.services.seized import DEFAULT_MAX_MB, MB, ReadLimits
from models.services.staff import StaffStore
from models.services.stats import Stats
from models.services.subscriptions import SubscriptionStore
from models.services.tac import TacTable
from models.services.websessions import SessionRules, WebSessions
from models.storage.database import Database
from models.values.coordinates import GREATER_LONDON, Area


@dataclass(frozen=True, slots=True)
class RegisterConfig:
    """The register's own settings (the application passes them in)."""

    default_region: str = "GB"
    report_retention_days: int = 730
    draft_ttl_hours: int = 24
    cluster_rule: ClusterRule = field(default_factory=ClusterRule)
    # Points outside this box are accepted with a warning; geocoding prefers places inside it.
    service_area: Area | None = GREATER_LONDON
    nominatim_url: str | None = None
    nominatim_user_agent: str = "stolen-phone-reportbot"
    recovery_max_file_mb: float = DEFAULT_MAX_MB
    web_sessions: SessionRules = field(default_factory=SessionRules)


class Register:
    """The stolen-phone register's operations, with no knowledge of Telegram."""

    def __init__(self, db: Database, vault: Vault, config: RegisterConfig | None = None) -> None:
        """Build every store on one database and vault."""
        self.db = db
        self.vault = vault
        self.config = config or RegisterConfig()
        self.alerts = StaffAlerts(db, vault, self.config.cluster_rule)
        self.reports = ReportStore(db, vault, self.alerts)
        self.staff = StaffStore(db)
        self.audit = AuditLog(db)
        self.retention = Retention(db, report_days=self.config.report_retention_days)
        self.export = Exporter(self.reports, self.audit)
        self.recovery = Recovery(
            db, self.reports, limits=ReadLimits(int(self.config.recovery_max_file_mb * MB))
        )
        self.recovery_previews = RecoveryPreviews(db, self.recovery)
        self.stats = Stats(db)
        self.map = MapPoints(self.reports)
        self.hotspots = HotspotFinder(db)
        self.drafts = DraftStore(db, vault, ttl_hours=self.config.draft_ttl_hours)
        self.subscriptions = SubscriptionStore(db)
        self.outbox = Outbox(db, vault)
        self.followup = FollowUp(db, vault, self.reports)
        self.rotation = KeyRotation(db, vault)
        self.tac = TacTable(db)
        self.gazetteer = Gazetteer(db)
        self.geocoder = Geocoder(db, area=self.config.service_area, online=self._online())
        self.reports.enrich = Enrichment(self.tac, self.geocoder).complete
        self.followup.geocoder = self.geocoder
        self.police = PoliceReferences(db)
        self.access = AccessCodes(db, vault, self.reports)
        self.search = StaffSearch(db, vault, self.reports)
        self.reindex = Reindexer(db, vault, self.tac)
        self.listing = ReportListing(db, self.reports)
        self.web = WebSessions(db, vault, self.config.web_sessions)

    def _online(self) -> Nominatim | None:
        if not self.config.nominatim_url:
            return None
        return Nominatim(
            self.config.nominatim_url,
            user_agent=self.config.nominatim_user_agent,
            area=self.config.service_area,
        )

    async def close(self) -> None:
        """Store what is still only in memory, then release the database's connections."""
        try:
            await self.drafts.flush_all()
        finally:
            await self.db.dispose()

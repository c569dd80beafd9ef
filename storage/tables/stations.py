"""Public legal service stations: 省 → 市/州 → 县/区 → 乡镇/街道 → 村/社区."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.tables.base import Base


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Administrative division code: 6 digits down to county, 9 for townships, 12 for villages.
    division_code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: province / city / county / township / village
    level: Mapped[str] = mapped_column(String(16))
    #: centre (公共法律服务中心) / station (工作站) / room (工作室)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    #: Materialised ancestry "/1/7/42/" so a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(400), index=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped[Station | None] = relationship(remote_side="Station.id", back_populates="children")
    children: Mapped[list[Station]] = relationship(back_populates="parent", order_by="Station.division_code")

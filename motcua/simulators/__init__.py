"""Loopback simulators of the providers MotCua's consumers talk to. ``start_all`` starts them
for the local stack (``motcua local``) and for tests, and says which settings point at them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from motcua.simulators.loopback import LoopbackServer
from motcua.simulators.ministry import MinistrySystemDouble
from motcua.simulators.national import NationalPortalSimulator
from motcua.simulators.zalo import ZaloSimulator

# Each simulator's port setting and default port in the local stack.
PORT_SETTINGS: dict[str, int] = {"MOTCUA_NATIONAL_SIM_PORT": 8010, "MOTCUA_ZALO_SIM_PORT": 8011,
                                 "MOTCUA_JUDICIAL_SIM_PORT": 8012}
JUDICIAL = "judicial-records"   # the example connector (chalicelib/data/connectors.json)


@dataclass
class Simulators:
    national: NationalPortalSimulator
    zalo: ZaloSimulator
    judicial: MinistrySystemDouble
    servers: list[LoopbackServer] = field(default_factory=list)
    sink: str | None = None            # notifications sink file, when set

    def environment(self) -> dict[str, str]:
        """Settings that point the adapters at these simulators."""
        from chalicelib.connectors import systems
        judicial = systems()[JUDICIAL]
        env = {"MOTCUA_NATIONAL_URL": self.national.url, "MOTCUA_ZALO_URL": self.zalo.url,
               "MOTCUA_ZALO_TOKEN": self.zalo.access_token,
               judicial.url_setting: f"{self.judicial.url}/motcua/events", judicial.secret_setting: self.judicial.secret}
        return {**env, "MOTCUA_NOTIFICATIONS_SINK": self.sink} if self.sink else env

    def banner(self) -> list[str]:
        return [f"  National portal simulator: {self.national.url}", f"  Zalo ZNS simulator: {self.zalo.url}",
                f"  Judicial records system (test double): {self.judicial.url}"]

    @staticmethod
    def reset_clients() -> None:
        """Forget adapters (and their cached tokens) built for other endpoints."""
        from chalicelib.national_adapter import portal
        portal.cache_clear()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def start_all(port: int | None = None) -> Simulators:
    """Start every simulator. ``port=0`` picks free ports (tests); None reads each one's
    port setting (MOTCUA_NATIONAL_SIM_PORT, default 8010)."""
    def pick(name: str, default: int) -> int:
        return port if port is not None else int(os.environ.get(name, default))

    national = NationalPortalSimulator(pick("MOTCUA_NATIONAL_SIM_PORT", PORT_SETTINGS["MOTCUA_NATIONAL_SIM_PORT"])).start()
    zalo = ZaloSimulator(pick("MOTCUA_ZALO_SIM_PORT", PORT_SETTINGS["MOTCUA_ZALO_SIM_PORT"])).start()
    from chalicelib.connectors import systems
    judicial = MinistrySystemDouble(JUDICIAL, systems()[JUDICIAL].secret(),
                                    pick("MOTCUA_JUDICIAL_SIM_PORT", PORT_SETTINGS["MOTCUA_JUDICIAL_SIM_PORT"])).start()
    return Simulators(national=national, zalo=zalo, judicial=judicial, servers=[national, zalo, judicial])

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
JUDICIAL = "judicial-records"   # the example connector (chalicelib/sync/data/connectors.json)


@dataclass
class Simulators:
    national: NationalPortalSimulator
    zalo: ZaloSimulator
    judicial: MinistrySystemDouble
    servers: list[LoopbackServer] = field(default_factory=list)
    sink: str | None = None            # notifications sink file, when set

    def environment(self) -> dict[str, str]:
        """Settings that point the adapters at these simulators."""
        from chalicelib.sync.rules.connectors import systems
        judicial = systems()[JUDICIAL]
        env = {"MOTCUA_NATIONAL_URL": self.national.url, "MOTCUA_ZALO_URL": self.zalo.url,
               **({"MOTCUA_NATIONAL_DSTCODE": self.national.dstcode} if self.national.dstcode else {}),
               "MOTCUA_ZALO_OAUTH_URL": self.zalo.url,
               "MOTCUA_ZALO_TOKEN": self.zalo.access_token,
               judicial.url_setting: f"{self.judicial.url}/motcua/events", judicial.secret_setting: self.judicial.secret}
        return {**env, "MOTCUA_NOTIFICATIONS_SINK": self.sink} if self.sink else env

    def secrets(self) -> dict[str, dict[str, str]]:
        """Stage secrets that the simulators accept, for an AWS stage run against them
        (start_all(stage_accounts=True)); Zalo's as the zalo-token schedule leaves it."""
        from datetime import datetime, timedelta

        from chalicelib.kernel.working_days import TZ, iso
        from chalicelib.sync.adapters.zalo_token import EXPIRES_AT
        zalo = self.zalo
        return {"national-portal": {"username": self.national.username, "password": self.national.password},
                "zalo": {"app_id": zalo.app_id, "secret_key": zalo.secret_key, "refresh_token": zalo.refresh_token,
                         "access_token": zalo.access_token, EXPIRES_AT: iso(datetime.now(TZ) + timedelta(hours=25))}}

    def banner(self) -> list[str]:
        return [f"  National portal simulator: {self.national.url}", f"  Zalo ZNS simulator: {self.zalo.url}",
                f"  Judicial records system (test double): {self.judicial.url}"]

    @staticmethod
    def reset_clients() -> None:
        """Forget adapters (and their cached tokens) built for other endpoints."""
        from chalicelib.sync.adapters.national_portal import portal
        portal.cache_clear()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


# Accounts for AWS-stage runs (the bench's and the package test's sandbox): obviously fake,
# but not the local stage's fakes, which every AWS stage refuses (chalicelib.runtime.credentials).
STAGE_ACCOUNTS = {"national": {"username": "sandbox-national", "password": "sandbox-national-password-not-real"},
                  "zalo": {"app_id": "sandbox-zalo-app", "secret_key": "sandbox-zalo-secret-key-not-real",
                           "refresh_token": "sandbox-zalo-refresh-not-real", "access_token": "sandbox-zalo-token-not-real"}}


def start_all(port: int | None = None, stage_accounts: bool = False) -> Simulators:
    """Start every simulator. ``port=0`` picks free ports (tests); None reads each one's
    port setting (MOTCUA_NATIONAL_SIM_PORT, default 8010). ``stage_accounts``: accept
    STAGE_ACCOUNTS instead of the local stage's defaults."""
    def pick(name: str, default: int) -> int:
        return port if port is not None else int(os.environ.get(name, default))

    from chalicelib.runtime.settings import FAKE_NATIONAL_DSTCODE
    accounts = STAGE_ACCOUNTS if stage_accounts else {"national": {}, "zalo": {}}
    # the routing code the stack will send: one given in the environment, else the local fake
    dstcode = os.environ.get("MOTCUA_NATIONAL_DSTCODE") or FAKE_NATIONAL_DSTCODE
    national = NationalPortalSimulator(pick("MOTCUA_NATIONAL_SIM_PORT", PORT_SETTINGS["MOTCUA_NATIONAL_SIM_PORT"]),
                                       **accounts["national"], dstcode=dstcode).start()
    zalo = ZaloSimulator(pick("MOTCUA_ZALO_SIM_PORT", PORT_SETTINGS["MOTCUA_ZALO_SIM_PORT"]), **accounts["zalo"]).start()
    from chalicelib.sync.rules.connectors import systems
    judicial = MinistrySystemDouble(JUDICIAL, systems()[JUDICIAL].secret(),
                                    pick("MOTCUA_JUDICIAL_SIM_PORT", PORT_SETTINGS["MOTCUA_JUDICIAL_SIM_PORT"])).start()
    return Simulators(national=national, zalo=zalo, judicial=judicial, servers=[national, zalo, judicial])

"""Loopback simulators of the providers MotCua's consumers talk to. ``start_all`` starts them
for the local stack (``motcua local``) and for tests, and says which settings point at them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from motcua.simulators.loopback import LoopbackServer
from motcua.simulators.national import NationalPortalSimulator

# Each simulator's port setting and default port in the local stack.
PORT_SETTINGS: dict[str, int] = {"MOTCUA_NATIONAL_SIM_PORT": 8010}


@dataclass
class Simulators:
    national: NationalPortalSimulator
    servers: list[LoopbackServer] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """Settings that point the adapters at these simulators."""
        return {"MOTCUA_NATIONAL_URL": self.national.url}

    def banner(self) -> list[str]:
        return [f"  National portal simulator: {self.national.url}"]

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
    return Simulators(national=national, servers=[national])

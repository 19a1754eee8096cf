"""`motcua local` (what `make run` starts): the whole stack on loopback, in one process tree.

moto server (DynamoDB, Streams, EventBridge, SQS, S3) -> resources from chalicelib.runtime.resources
-> sample catalogue -> dispatcher thread (plays Lambda) -> the Chalice API. State lives only
in the moto server, so every start is clean. Ctrl-C stops everything.

The terminal shows the banner and the API's own request log (one JSON line per request,
app.py). The emulators' traffic (moto's access log, about 45 lines a second of the
dispatcher polling it; the local API server's access line, which repeats the API's; the
simulators' requests) shows only with ``motcua local --verbose``.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from typing import Any

HOST = "127.0.0.1"
# moto's server is werkzeug
EMULATOR_LOGGERS = ("werkzeug", "payments.simulator", "payments.paygov_simulator", "motcua.simulators")


def configure_environment() -> dict[str, int]:
    """Fill in local defaults before any chalicelib module reads the environment."""
    ports = {
        "moto": int(os.environ.get("MOTCUA_MOTO_PORT", "4566")),
        "api": int(os.environ.get("MOTCUA_API_PORT", "8000")),
        "vnpay": int(os.environ.get("MOTCUA_VNPAY_PORT", "8089")),
        "paygov": int(os.environ.get("MOTCUA_PAYGOV_PORT", "8090")),
    }
    # The VNPay and PayGov simulators stand in for the gateways; browsers come back to the local API.
    os.environ.setdefault("VNPAY_HOST", f"http://{HOST}:{ports['vnpay']}")
    os.environ.setdefault("PAYGOV_HOST", f"http://{HOST}:{ports['paygov']}")
    os.environ.setdefault("MOTCUA_PUBLIC_URL", f"http://{HOST}:{ports['api']}")
    os.environ.setdefault("MOTCUA_STAGE", "local")
    os.environ.setdefault("MOTCUA_AWS_ENDPOINT", f"http://{HOST}:{ports['moto']}")
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-1")
    # moto accepts any credentials; these are obviously fake and only ever sent to loopback.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local-fake-key")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local-fake-secret")
    os.environ.setdefault("MOTCUA_NOTIFICATIONS_SINK", notifications_sink(ports["moto"]))
    os.environ.setdefault("MOTCUA_API_URL", f"http://{HOST}:{ports['api']}")  # for the ministry-system double
    return ports


def notifications_sink(moto_port: int) -> str:
    """Where the local stack's channels write what they sent (`motcua notifications tail`)."""
    import tempfile
    return os.path.join(tempfile.gettempdir(), f"motcua-local-{moto_port}-notifications.jsonl")


STOP_SECONDS = 20


def show_emulator_traffic(verbose: bool) -> None:
    """Before the emulators start: their loggers at DEBUG to stderr, each line once, or moto's
    (werkzeug's, which would otherwise add its own handler at INFO) at WARNING."""
    if not verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(_redact_record)
    for name in EMULATOR_LOGGERS:
        emulator = logging.getLogger(name)
        emulator.setLevel(logging.DEBUG)
        emulator.addHandler(handler)
        emulator.propagate = False   # once: a library may have given the root logger a handler too


# The listen backlog: 100 clients connecting at once must all be queued, none reset
# (socketserver's default is 5; Linux caps it at net.core.somaxconn, 4096 by default).
LISTEN_BACKLOG = 1024


def _redact_record(record: logging.LogRecord) -> bool:
    """An emulator's log line (moto's access log shows presigned URLs) without the secrets
    its query strings carry, as every MotCua log line (chalicelib/runtime/log.py)."""
    from chalicelib.runtime.log import scrub_text
    record.msg, record.args = scrub_text(record.getMessage()), None
    return True


def api_server(app: Any, port: int, verbose: bool) -> Any:
    """Chalice's local server, threaded, with a listen backlog of LISTEN_BACKLOG. Its access
    line repeats the API's own request log line, so it is printed only when verbose (errors
    it logs are printed either way), and always without the secrets a query string carries
    (``phone_last4`` unlocks a dossier's tracking page: chalicelib/runtime/log.py)."""
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer, RouteMatcher, ThreadedHTTPServer

    from chalicelib.runtime.log import scrub_text

    class RoomyServer(ThreadedHTTPServer):
        request_queue_size = LISTEN_BACKLOG

    routes = RouteMatcher(list(app.routes))

    class RedactingRequestHandler(ChaliceRequestHandler):
        def _generic_handle(self) -> None:
            refused = gateway_refusal(routes, self.path, self.headers.get("Content-Length", "0"))
            if refused is None:
                super()._generic_handle()
                return
            status, body = refused   # whatever body came is left unread: the connection closes, and says so
            self._send_http_response(status, {"Content-Type": "application/json; charset=utf-8",
                                              "Connection": "close"}, body)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if verbose:
                status = getattr(code, "value", code)
                self.log_message('"%s" %s %s', scrub_text(self.requestline), str(status), str(size))

        def log_error(self, template: str, *args: Any) -> None:
            self.log_message("%s", scrub_text(template % args))

    config = Config.create(chalice_stage="local", app_name="motcua")
    return LocalDevServer(app, config, HOST, port, handler_cls=RedactingRequestHandler, server_cls=RoomyServer)


def gateway_refusal(routes: Any, path: str, content_length: str) -> tuple[int, bytes] | None:
    """What API Gateway answers before the API sees a request, in the API's error shape: a
    Content-Length that is no number (400; Chalice's local server dropped the connection with
    a traceback) and a path no route serves (404 ``route_not_found``; Chalice's local server
    answered API Gateway's 403 "Missing Authentication Token", repeating the caller's
    Authorization header, and dropped the connection when that header was not ASCII)."""
    from chalicelib.edge.errors import chalice_error_body

    if not content_length.strip().isascii() or not content_length.strip().isdigit():
        return 400, json.dumps(chalice_error_body("BadRequest"), ensure_ascii=False).encode()
    try:
        routes.match_route(path)
    except ValueError:
        return 404, json.dumps(chalice_error_body("RouteNotFound"), ensure_ascii=False).encode()
    return None


def main(verbose: bool = False) -> int:
    ports = configure_environment()
    if os.environ["MOTCUA_STAGE"] != "local":
        print("motcua local only runs with MOTCUA_STAGE=local", file=sys.stderr)
        return 2

    import boto3
    from moto.server import ThreadedMotoServer

    from chalicelib.runtime.settings import settings
    from motcua.dispatcher import Dispatcher
    from motcua.provision import provision
    from motcua.seed import seed_catalogue
    from motcua.simulators import start_all

    from motcua import moto_atomic
    moto_atomic.install()  # the threaded API, dispatcher and IPNs write concurrently
    show_emulator_traffic(verbose)
    moto = ThreadedMotoServer(ip_address=HOST, port=ports["moto"], verbose=False)
    moto.start()
    simulators = start_all()  # national portal, Zalo, ministry systems (issue 4)
    open(os.environ["MOTCUA_NOTIFICATIONS_SINK"], "w").close()  # every start is clean
    for name, value in simulators.environment().items():
        os.environ.setdefault(name, value)
    settings.cache_clear()   # imports above may have read the settings: read the simulators' ports too
    cfg = settings()
    session = boto3.session.Session()
    provision(session, cfg)
    count = seed_catalogue()
    dispatcher = Dispatcher(cfg, session)
    dispatcher.start()

    from app import app
    server = api_server(app, ports["api"], verbose)
    api_thread = threading.Thread(target=server.server.serve_forever, name="api", daemon=True)
    api_thread.start()

    vnpay = start_vnpay_simulator(ports)
    paygov = start_paygov_simulator(ports) if _local_paygov(cfg.paygov.host, ports) else None

    print(f"MotCua local stack is up (stage {cfg.stage}).", flush=True)
    print(f"  API:          http://{HOST}:{ports['api']}", flush=True)
    print(f"  AWS (moto):   {cfg.aws_endpoint_url}", flush=True)
    print(f"  Catalogue:    {count} sample items seeded", flush=True)
    print(f"  VNPay (sim):  {vnpay.base_url}  (a simulator, not a real gateway; IPN -> {vnpay.ipn_url})", flush=True)
    if paygov is not None:
        print(f"  PayGov (sim): {paygov.base_url}  (a simulator, not the national platform; confirm -> "
              f"{paygov.confirm_url})", flush=True)
    for line in simulators.banner():
        print(line, flush=True)
    print(national_banner(cfg), flush=True)
    print("  Token:        .venv/bin/motcua token --role citizen", flush=True)
    print(f"  Dashboard:    http://{HOST}:{ports['api']}/dashboard  (sign in as any staff role and agency)", flush=True)
    print("Press Ctrl-C to stop." + ("" if verbose else " (motcua local --verbose: the emulators' traffic too)"),
          flush=True)

    import faulthandler
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where is every thread?
    stopped = threading.Event()
    # Ctrl-C and SIGTERM both stop the stack. SIGINT gets its handler here rather than
    # Python's KeyboardInterrupt: a stack started as a background job of a non-interactive
    # shell (`make test &`, CI) inherits SIGINT ignored, and would otherwise never stop.
    # The wait wakes twice a second: Python runs signal handlers only in the main thread, and
    # a signal the kernel hands to another thread (moto's, under load) would leave a main
    # thread blocked in one long wait asleep forever.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(timeout=0.5):
        pass
    print("Stopping…", flush=True)
    # In order, but for at most STOP_SECONDS in all: a part that will not stop must not keep
    # the stack (and a test waiting on it) alive; the moto server holds all state anyway.
    stopper = threading.Thread(target=lambda: [part() for part in (
        server.shutdown, vnpay.stop, *([paygov.stop] if paygov else []), dispatcher.stop, simulators.stop,
        moto.stop)], daemon=True)
    stopper.start()
    stopper.join(timeout=STOP_SECONDS)
    _exit_now()
    return 0


def _exit_now() -> None:
    """Leave without Python's exit-time joins. A request still in flight at Ctrl-C, such as a
    reconciliation report querying hundreds of payments through a thread pool (whose workers
    Python joins at exit), would otherwise keep the stack alive for minutes, retrying servers
    that are already stopped (the likely reason two 20-minute fuzz runs had to be killed).
    Everything such a request could write lived in the moto server stopped above, so nothing
    is lost."""
    import logging
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def national_banner(cfg: Any) -> str:
    """Where the national sync goes: the simulator, or an outside portal given in the
    environment (docs/national-portal.md), with the routing code and whether through an LGSP."""
    portal = cfg.national
    lgsp = f", LGSP {portal.lgsp_url}" if portal.lgsp_url else ""
    return (f"  National sync -> {portal.service_url or portal.url + '/service'} "
            f"(auth {portal.auth_url or portal.url + '/auth'}, dstcode {portal.dstcode}{lgsp})")


def start_vnpay_simulator(ports: dict[str, int]) -> Any:
    """The loopback VNPay simulator on its own port, sending IPNs to the local API. The hash
    secret and terminal code are the same settings the API reads (local fakes by default)."""
    from chalicelib.payments.adapters.providers import payment_settings
    from payments.simulator import VNPaySimulator

    cfg = payment_settings()
    return VNPaySimulator(cfg.tmn_code, cfg.hash_secret, port=ports["vnpay"],
                          ipn_url=f"http://{HOST}:{ports['api']}/payments/vnpay/ipn",
                          retry_delays=(float(os.environ.get("MOTCUA_VNPAY_IPN_RETRY_SECONDS", "5")),)).start()


def _local_paygov(host: str, ports: dict[str, int]) -> bool:
    """Whether PAYGOV_HOST is the loopback simulator's address (an outside PayGov test
    environment given in the environment is used as it is, like MOTCUA_NATIONAL_URL)."""
    return host == f"http://{HOST}:{ports['paygov']}"


def start_paygov_simulator(ports: dict[str, int]) -> Any:
    """The loopback PayGov simulator on its own port. Its confirmation and return addresses are
    the local API's, as a partner registers them with PayGov; the partner code, key and access
    token are the same settings the API reads (local fakes by default)."""
    from chalicelib.payments.adapters.providers import paygov_credentials
    from payments.paygov_simulator import PayGovSimulator

    found = paygov_credentials()
    api = f"http://{HOST}:{ports['api']}/payments/providers/paygov"
    return PayGovSimulator(found["partner_code"], found["secret_key"], access_token=found["access_token"],
                           confirm_url=f"{api}/ipn", return_url=f"{api}/return", port=ports["paygov"],
                           retry_delays=(float(os.environ.get("MOTCUA_VNPAY_IPN_RETRY_SECONDS", "5")),)).start()

"""Composition root: builds the core services, the main window and its panes, and starts Qt.

Start-up never blocks the GUI thread: the cache is opened (and migrated, after a backup) in a
worker, and on first start the demo cache is built in a worker behind a progress dialog. A cache
that cannot be opened gets a message that says why, and the user chooses what to do next.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QProgressDialog

from c360_desktop import __version__
from c360_desktop.core.services import (
    HEAD,
    CacheError,
    Services,
    pending_encryption,
    pending_upgrade,
)
from c360_desktop.core.settings import Settings, config_dir, load_settings, save_settings
from c360_desktop.plugin_api import load_plugins
from c360_desktop.ui.controllers.sync import SyncController
from c360_desktop.ui.main_window import MainWindow
from c360_desktop.ui.plugin_host import PluginHost
from c360_desktop.ui.workers import TaskRunner, collect_garbage_on_gui_thread

if TYPE_CHECKING:
    from c360_desktop.ui.widgets.diagnostics import DiagnosticsDialog

log = logging.getLogger(__name__)

CHOICE_OPEN, CHOICE_DEMO, CHOICE_QUIT = "open", "demo", "quit"


class Launcher:
    """Opens a cache and shows the window for it; owns what lives as long as the app."""

    def __init__(self, app: QApplication, settings: Settings, cache_arg: str | None = None,
                 report_ready: bool = False) -> None:
        self.app = app
        self.settings = settings
        self.cache_arg = cache_arg
        self.report_ready = report_ready
        self.runner = TaskRunner()
        self.window: MainWindow | None = None
        self.services: Services | None = None
        self.host: PluginHost | None = None
        self.sync: SyncController | None = None
        self.alerts: Any = None
        self.imports: Any = None
        self.schedules: Any = None
        self.first_start: Any = None
        self.plugin_reports: list[Any] = []
        self.updates: Any = None
        self.lock: Any = None
        self.account: Any = None
        app.aboutToQuit.connect(self.stop_background)
        self.exit_code = 0
        self._progress: QProgressDialog | None = None
        # Until the main window is up, dialogs (progress, problems) are the only windows, and
        # closing one must not end the app; quitting before then is always explicit.
        app.setQuitOnLastWindowClosed(False)

    # -- the start-up flow -----------------------------------------------------------------
    def start(self) -> None:
        path = Path(self.cache_arg).expanduser() if self.cache_arg else self.settings.resolved_cache_path()
        uses_default = self.cache_arg is None and self.settings.cache_path is None
        if not path.exists() and uses_default:
            self.build_demo(path)
        elif not path.exists():
            self.explain(f"There is no cache at {path}.")
        else:
            self.open(path)

    def build_demo(self, path: Path) -> None:
        from c360_desktop.core.demo.generator import DemoSpec, build_demo_cache

        spec = DemoSpec(customers=self.settings.demo_customers, seed=self.settings.demo_seed)
        dialog = QProgressDialog(f"Building the demo dataset ({spec.customers:,} customers)…", "Cancel", 0, 1000)
        dialog.setWindowTitle("C360 Desktop: first start")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setValue(0)
        self._progress = dialog

        def progressed(fraction: float, message: str) -> None:
            dialog.setValue(int(fraction * 1000))
            dialog.setLabelText(message)

        def done(_out: Path) -> None:
            dialog.close()
            self.open(path)

        def failed(exc: BaseException) -> None:
            dialog.close()
            self.explain(f"The demo dataset could not be built.\n\n{exc}")

        def stopped() -> None:
            dialog.close()
            self.quit(1, "The demo build was cancelled; nothing was written.")

        handle = self.runner.run_mutation(lambda p: build_demo_cache(path, spec, p, prepare=True), done, failed,
                                          progressed, stopped)

        def cancel() -> None:
            if handle.done:
                return  # closing the dialog after the build also emits canceled
            handle.cancel()  # the build stops at its next checkpoint and removes its file
            dialog.setLabelText("Cancelling…")
            dialog.show()

        dialog.canceled.connect(cancel)
        dialog.show()

    def open(self, path: Path) -> None:
        from c360_desktop.core.security import signin

        try:
            needs_sign_in = signin.required(path)
        except signin.SignInError as exc:
            self.explain(str(exc))
            return
        if needs_sign_in:
            self.sign_in(path)
            return
        older = pending_upgrade(path)
        encrypting = pending_encryption(path)
        upgrading = None
        if older is not None or encrypting:  # a backup copy, then the upgrade: a minute on a large cache
            size = path.stat().st_size
            shown = f"{size / 1e9:,.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"
            text = (f"Upgrading {path.name} from schema {older} to {HEAD}, once.\n"
                    f"A backup copy of the cache ({shown}) is made first and kept beside it."
                    if older is not None else "")
            if encrypting:
                text += ("\n" if text else "") + (
                    f"Encrypting {path.name} ({shown}), once: the customers it holds become unreadable "
                    "without this computer's key, and the plain copy is overwritten.")
            upgrading = QProgressDialog(text, None, 0, 0)  # busy: no steps to count, and no cancel midway
            upgrading.setWindowTitle("C360 Desktop: upgrading the cache")
            upgrading.setMinimumDuration(0)
            upgrading.show()
            self._progress = upgrading

        def done(services: Services) -> None:
            if upgrading is not None:
                upgrading.close()
            self.show_window(services)

        def failed(exc: BaseException) -> None:
            if upgrading is not None:
                upgrading.close()
            if isinstance(exc, CacheError):
                self.explain(str(exc))
            else:
                log.exception("opening %s failed", path, exc_info=exc)
                self.explain(f"{path} could not be opened: {exc}")

        self.runner.run_query(lambda _p: Services.open(path, self.settings), done, failed)

    def sign_in(self, path: Path) -> None:
        """A cache with users: the password is checked, the key unwrapped and the cache opened on
        a worker; the window appears once that has worked. Quit leaves without opening anything."""
        from c360_desktop.core.security import signin
        from c360_desktop.ui.widgets.signin import SIGN_IN, PasswordDialog

        settings = self.settings
        dialog = PasswordDialog(SIGN_IN, self.runner,
                                lambda name, pw, code: Services.open_signed_in(path, settings, name, pw, code),
                                lambda name: signin.has_totp(path, name), name=settings.user_name, place=path.name)
        self._sign_in_dialog = dialog
        dialog.sig_accepted.connect(self.show_window)

        def rejected() -> None:
            if self.window is None:
                self.quit(1)

        dialog.rejected.connect(rejected)
        dialog.show()

    def show_window(self, services: Services) -> None:
        old_window, old_services = self.window, self.services
        if self.sync is not None:
            self.sync.stop()  # the old window stays alive (closed); its schedule must not
        self.services = services
        window = MainWindow(QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat))
        self.host = PluginHost(window, services, self.runner)
        self.plugin_reports = load_plugins(self.host)
        for report in self.plugin_reports:
            if not report.loaded:
                window.statusBar().showMessage(f"Plugin {report.name} skipped: {report.reason}", 15000)
        self.sync = SyncController(window, services, self.runner)
        panes = list(self.host.panes.values())
        # Panes are connected by what they declare (a signal they emit, a slot they offer), never
        # by name: a plugin's pane that declares the same takes part the same way.
        for pane in panes:
            if hasattr(pane, "on_sync_finished"):
                self.sync.sig_sync_finished.connect(pane.on_sync_finished)
        self.sync.sig_sync_finished.connect(lambda _ok: self.refresh_stats())
        from c360_desktop.ui.controllers.alerts import AlertsController

        if self.alerts is not None:
            self.alerts.stop()
        alerts_view = next((p for p in panes if hasattr(p, "add_live")), None)  # shows live alerts
        self.alerts = AlertsController(window, services, self.runner, alerts_view, self.sync)
        from c360_desktop.ui.controllers.imports import ImportController

        self.imports = ImportController(window, services, self.runner, self.host.connectors)
        self.imports.imported += [pane.on_data_imported for pane in panes if hasattr(pane, "on_data_imported")]
        from c360_desktop.ui.controllers.schedules import ScheduleController

        if self.schedules is not None:
            self.schedules.stop()
        self.schedules = ScheduleController(window, services, self.runner)
        self.schedules.sig_alerts_raised.connect(self.alerts.show_local)
        self.sync.sig_sync_finished.connect(lambda _ok: self.schedules.check_budgets())
        window.sig_import_requested.connect(self.imports.choose)
        from c360_desktop.ui.controllers.first_start import FirstStartController

        if self.first_start is not None:
            self.first_start.stop()
        self.first_start = FirstStartController(window, services, self.runner)
        self.first_start.sig_prepared.connect(lambda _p: self.data_changed(window))
        from c360_desktop.ui.controllers.updates import UpdateController

        self.updates = UpdateController(window, services, self.runner)
        for controller in (self.schedules, self.first_start, self.updates):  # their window closing stops them
            window.sig_closing.connect(controller.stop)
        from c360_desktop.ui.controllers.lock import LockController

        if self.lock is not None:
            self.lock.stop()
        self.lock = LockController(window, services, self.runner)
        if services.session is not None:
            from c360_desktop.ui.widgets.signin import AccountActions

            self.account = AccountActions(window, services, self.runner)
        for pane in panes:
            if hasattr(pane, "sig_alerts_raised"):
                pane.sig_alerts_raised.connect(self.alerts.show_local)
        from c360_desktop.core.security import HOME_VIEWS

        # each feature's pane is named after it (dashboard_pane...)
        window.restore_layout(tuple(f"{view}_pane" for view in HOME_VIEWS.get(services.user.role, ())))
        window.sig_open_cache_requested.connect(self.choose_cache)
        window.sig_diagnostics_requested.connect(self.show_diagnostics)
        self.window = window
        info = services.cache.info
        if info.wal_warning:
            window.statusBar().showMessage(f"Warning: {info.wal_warning}", 60_000)
        elif info.wiped_after_days is not None:
            window.statusBar().showMessage(
                f"The cache was not unlocked for {info.wiped_after_days} days and was wiped, as its policy says; "
                "sync to fill it again", 60_000)
        elif info.upgraded_from:
            window.statusBar().showMessage(
                f"Cache upgraded from schema {info.upgraded_from}; the old file was kept as {info.backup_path}", 15000)
        elif info.converted:
            window.statusBar().showMessage("The cache is now encrypted; its plain copy was overwritten", 15000)
        window.show()
        self.app.setQuitOnLastWindowClosed(True)
        self.refresh_stats()
        if old_window is not None:
            old_window.close()
        if old_services is not None:
            old_services.close()
        first = next((p for p in panes if hasattr(p, "focus_on_start")), None)
        if first is not None:
            first.focus_on_start()
        if old_window is None:
            import gc

            gc.collect()
            gc.freeze()  # what start-up built lives on: later collections need not walk it
        if self.report_ready:
            QTimer.singleShot(0, self._report_ready)

    def show_diagnostics(self) -> DiagnosticsDialog | None:
        """Help > Diagnostics: the report, collected on a worker, and the bundle for support."""
        from c360_desktop.ui.widgets.diagnostics import DiagnosticsDialog

        services, window = self.services, self.window
        if services is None or window is None:
            return None
        import PySide6
        from PySide6.QtCore import qVersion

        def extra() -> dict[str, Any]:
            return {"versions": {"Qt": qVersion(), "PySide6": PySide6.__version__},
                    "broker": self.alerts.describe() if self.alerts is not None else {},
                    "plugins": [{"name": r.name, "loaded": r.loaded, "reason": r.reason}
                                for r in self.plugin_reports]}

        dialog = DiagnosticsDialog(window, services.diagnostics, self.runner, extra)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.collect()
        dialog.show()
        return dialog

    def stop_background(self) -> None:
        """The app is quitting: the schedule and the first-start work stop at their next step."""
        for controller in (self.schedules, self.first_start):
            if controller is not None:
                controller.stop()

    def data_changed(self, window: MainWindow) -> None:
        """Much of the cache changed (the demo's first-start work): the panes already showing
        data read it again, and the 360 view shows its customer again."""
        from c360_desktop.ui.main_window import LOADED

        if window is not self.window or self.host is None:
            return
        for name, pane in self.host.panes.items():
            dock = window.docks.get(name)
            if hasattr(pane, "show_customer") and getattr(pane, "customer_id", None):
                pane.show_customer(pane.customer_id)
            elif hasattr(pane, "refresh") and dock is not None and dock.property(LOADED):
                pane.refresh()
        self.refresh_stats()

    def _report_ready(self) -> None:
        print("C360_READY", flush=True)
        self.quit(0)

    def refresh_stats(self) -> None:
        services, window = self.services, self.window
        if services is None or window is None:
            return
        self.runner.run_query(lambda _p: services.stats(), window.show_stats)

    # -- when things go wrong --------------------------------------------------------------
    def ask(self, text: str) -> str:
        """Shows the problem and asks what to do. Returns CHOICE_OPEN, CHOICE_DEMO or CHOICE_QUIT."""
        box = QMessageBox(QMessageBox.Icon.Warning, "C360 Desktop", text, parent=self.window)
        box.setInformativeText("You can open another cache, build a fresh demo cache, or quit.")
        buttons = {
            box.addButton("Open another cache…", QMessageBox.ButtonRole.AcceptRole): CHOICE_OPEN,
            box.addButton("Build demo cache", QMessageBox.ButtonRole.ActionRole): CHOICE_DEMO,
            box.addButton("Quit" if self.window is None else "Close", QMessageBox.ButtonRole.RejectRole): CHOICE_QUIT,
        }
        box.exec()
        return buttons.get(box.clickedButton(), CHOICE_QUIT)

    def explain(self, text: str) -> None:
        log.warning("%s", text)
        choice = self.ask(text)
        if choice == CHOICE_OPEN:
            self.choose_cache()
        elif choice == CHOICE_DEMO:
            self.choose_demo_location()
        elif self.window is None:  # nothing usable is open: leave cleanly
            self.quit(1)

    def choose_cache(self) -> None:
        start = str(self.settings.resolved_cache_path().parent)
        path, _ = QFileDialog.getOpenFileName(self.window, "Open cache", start, "C360 cache (*.db);;All files (*)")
        if path:
            self.remember(path)
            self.open(Path(path))
        elif self.window is None:
            self.quit(1)

    def choose_demo_location(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "New demo cache", str(Path.home() / "c360-demo.db"),
                                              "C360 cache (*.db)")
        if not path:
            if self.window is None:
                self.quit(1)
            return
        if Path(path).exists():
            self.explain(f"{path} already exists; choose a new file name for the demo cache.")
            return
        self.remember(path)
        self.build_demo(Path(path))

    def remember(self, path: str) -> None:
        self.settings.cache_path = path
        try:
            save_settings(self.settings)
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def quit(self, code: int, message: str | None = None) -> None:
        if message:
            print(message, file=sys.stderr)
        self.exit_code = code
        QTimer.singleShot(0, lambda: self.app.exit(code))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="c360-desktop", description="The C360 Desktop workstation.")
    parser.add_argument("--cache", help="open this cache file instead of the configured one")
    parser.add_argument("--version", action="version", version=f"c360-desktop {__version__}")
    parser.add_argument("--report-ready", action="store_true",
                        help="print C360_READY once the window is usable, then quit (for benchmarks)")
    parser.add_argument("--smoke-test", action="store_true",
                        help="check this installation end to end on a temporary demo cache, offscreen, "
                        "and exit 0 if it works (the failing step on stderr otherwise)")
    return parser.parse_args(argv)


def prepare_web_engine() -> None:
    """Let QtWebEngine (the map) start later, when the map is first shown: it needs OpenGL
    contexts shared from before the QApplication exists, and Chromium's flags set by then
    (no sandbox as root; no GPU on a headless, offscreen display). Loading it at start-up would
    cost every launch ~0.1 s and the memory of Chromium's libraries."""
    import os

    from PySide6.QtCore import QCoreApplication, Qt

    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags += " --no-sandbox"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" and "--disable-gpu" not in flags:
        flags += " --disable-gpu"
    if flags.strip():
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags.strip()
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from c360_desktop.core import logs

    smoke_home = None
    if args.smoke_test:
        from c360_desktop.ui import smoke

        smoke_home = smoke.isolate()  # before anything reads settings or opens a log
    logs.setup()
    if QApplication.instance() is None:
        prepare_web_engine()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from c360_desktop.ui.widgets.diagnostics import CrashReporter

    crashes = CrashReporter(app)
    logs.install_crash_handler(crashes.report)
    log.info("C360 Desktop %s starting", __version__)
    if smoke_home is not None:
        from c360_desktop.ui import smoke

        return smoke.run(app, smoke_home)
    app.setApplicationName("C360 Desktop")
    app.setOrganizationName("C360")
    app.setApplicationVersion(__version__)
    gc_timer = collect_garbage_on_gui_thread(app)  # noqa: F841 - lives as long as the app
    settings, problems = load_settings()
    launcher = Launcher(app, settings, args.cache, args.report_ready)
    for problem in problems:
        log.warning("%s", problem)
    if problems:
        QTimer.singleShot(0, lambda: QMessageBox.warning(None, "C360 Desktop: settings", "\n".join(problems)))
    QTimer.singleShot(0, launcher.start)
    code = app.exec()
    launcher.runner.wait()
    return code or launcher.exit_code


if __name__ == "__main__":
    raise SystemExit(main())

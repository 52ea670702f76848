"""The Debian package (`make package`), checked without installing it.

Builds the .deb from the release build with CPack, then:
- its control data: name, version, dependencies from dpkg-shlibdeps, /etc/cairn/cairn.yaml a
  conffile, maintainer scripts that parse;
- `dpkg-deb -x` into a temporary root: the binary answers --version and --help (every
  subcommand listed), the shipped cairn.yaml parses and resolves to exactly the built-in
  defaults with data-dir /var/lib/cairn, the systemd unit passes `systemd-analyze verify`
  (when that tool is on the machine) and its user line passes `systemd-sysusers --dry-run`;
- the packaged binary, run with the shipped config against a temporary data directory,
  serves a produce and a consume by its own CLI and stops with exit 0 on SIGTERM.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD_DIR = os.environ.get("CAIRN_BUILD_DIR", "")
TIMEOUT_S = 600
SUBCOMMANDS = ("serve", "topic", "produce", "consume", "group", "config", "version")


def run(args, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT_S)
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(BUILD_DIR, "CPackConfig.cmake")):
            raise AssertionError("CAIRN_BUILD_DIR=%r has no CPackConfig.cmake" % BUILD_DIR)
        cls.work = tempfile.mkdtemp(prefix="cairn-package-")
        built = run(["cpack", "-G", "DEB", "-B", cls.work,
                     "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake")], cwd=BUILD_DIR)
        if built.returncode != 0:
            raise AssertionError("cpack failed:\n%s%s" % (built.stdout, built.stderr))
        debs = glob.glob(os.path.join(cls.work, "cairn_*.deb"))
        if len(debs) != 1:
            raise AssertionError("expected one cairn_*.deb, got %s" % debs)
        cls.deb = debs[0]
        cls.root = os.path.join(cls.work, "root")
        extracted = run(["dpkg-deb", "-x", cls.deb, cls.root])
        if extracted.returncode != 0:
            raise AssertionError("dpkg-deb -x: %s" % extracted.stderr)
        cls.binary = os.path.join(cls.root, "usr", "bin", "cairn")
        cls.config = os.path.join(cls.root, "etc", "cairn", "cairn.yaml")
        cls.unit = os.path.join(cls.root, "usr", "lib", "systemd", "system", "cairn.service")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_control_data(self):
        info = run(["dpkg-deb", "-f", self.deb]).stdout
        self.assertRegex(info, r"(?m)^Package: cairn$")
        self.assertRegex(info, r"(?m)^Version: \d+\.\d+\.\d+")
        self.assertRegex(info, r"(?m)^Depends: .*libc6")
        self.assertRegex(info, r"(?m)^Depends: .*librdkafka")
        control = os.path.join(self.work, "control")
        self.assertEqual(run(["dpkg-deb", "-e", self.deb, control]).returncode, 0)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/cairn/cairn.yaml"])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            checked = run(["sh", "-n", path])
            self.assertEqual(checked.returncode, 0, script + ": " + checked.stderr)

    def test_files(self):
        listing = run(["dpkg-deb", "-c", self.deb]).stdout
        for path in ("./usr/bin/cairn", "./usr/lib/systemd/system/cairn.service",
                     "./usr/lib/sysusers.d/cairn.conf", "./etc/cairn/cairn.yaml",
                     "./usr/share/doc/cairn/README.md",
                     "./usr/share/doc/cairn/docs/configuration.md"):
            self.assertRegex(listing, r"(?m) %s$" % re.escape(path))
        self.assertRegex(listing, r"(?m)^-rwxr-xr-x root/root .* \./usr/bin/cairn$")
        described = run(["file", "-b", self.binary]).stdout
        self.assertIn("ELF 64-bit", described)
        self.assertIn(", stripped", described)

    def test_version_and_help(self):
        version = run([self.binary, "--version"])
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertRegex(version.stdout, r"^cairn \d+\.\d+\.\d+ \(\S+\)\n$")
        help_text = run([self.binary, "--help"])
        self.assertEqual(help_text.returncode, 0, help_text.stderr)
        self.assertIn("Usage: cairn ", help_text.stdout)
        listed = re.findall(r"(?m)^  ([a-z]+) ", help_text.stdout.split("Subcommands:")[1])
        for name in SUBCOMMANDS:
            self.assertIn(name, listed)

    def test_shipped_config_is_the_defaults(self):
        with open(self.config) as f:
            text = f.read()
        self.assertRegex(text, r"(?m)^data-dir: /var/lib/cairn$")
        shipped = run([self.binary, "serve", "--config", self.config, "--print-config"])
        self.assertEqual(shipped.returncode, 0, shipped.stderr)
        defaults = run([self.binary, "serve", "--data-dir", "/var/lib/cairn", "--print-config"])
        self.assertEqual(defaults.returncode, 0, defaults.stderr)
        self.assertEqual(shipped.stdout, defaults.stdout)
        self.assertIn("listen: 127.0.0.1:9092", shipped.stdout)

    def test_systemd_unit(self):
        with open(self.unit) as f:
            unit = f.read()
        for line in ("User=cairn", "StateDirectory=cairn", "Restart=on-failure",
                     "KillSignal=SIGTERM", "ExecStart=/usr/bin/cairn serve --config "
                     "/etc/cairn/cairn.yaml"):
            self.assertIn(line + "\n", unit)
        self.assertRegex(unit, r"(?m)^LimitNOFILE=\d{6,}$")
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        # The unit's dependencies (sysinit.target, network-online.target, ...) are the
        # machine's: copy its units beside ours into the extracted root.
        units = os.path.join(self.root, "usr", "lib", "systemd", "system")
        for name in os.listdir("/usr/lib/systemd/system"):
            source = os.path.join("/usr/lib/systemd/system", name)
            if not os.path.lexists(os.path.join(units, name)) and not os.path.isdir(source):
                shutil.copy2(source, units, follow_symlinks=False)
        verified = run(["systemd-analyze", "verify", "--root=" + self.root,
                        "/usr/lib/systemd/system/cairn.service"])
        # A bad value is only a warning to systemd ("ignoring"): any output fails the test.
        self.assertEqual((verified.returncode, verified.stdout + verified.stderr), (0, ""))
        if shutil.which("systemd-sysusers") is not None:
            # A bare name is looked up in the root's sysusers.d directories.
            users = run(["systemd-sysusers", "--dry-run", "--root=" + self.root, "cairn.conf"])
            self.assertEqual(users.returncode, 0, users.stderr)
            self.assertIn("Creating user 'cairn'", users.stdout + users.stderr)

    def test_packaged_binary_serves(self):
        data_dir = os.path.join(self.work, "data")
        port_file = os.path.join(self.work, "port")
        broker = subprocess.Popen([self.binary, "serve", "--config", self.config,
                                   "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                                   "--admin-listen", "127.0.0.1:0",
                                   "--port-file", port_file],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(port_file) and time.monotonic() < deadline:
                self.assertIsNone(broker.poll(), "the packaged broker exited")
                time.sleep(0.05)
            time.sleep(0.1)
            with open(port_file) as f:
                bootstrap = "127.0.0.1:" + f.read().strip()
            produced = run([self.binary, "produce", "packaged", "-b", bootstrap],
                           input="hello from the package\n", timeout=60)
            self.assertEqual(produced.returncode, 0, produced.stderr)
            consumed = run([self.binary, "consume", "packaged", "-b", bootstrap,
                            "-o", "start", "-e", "-f", "%v\n"], timeout=60)
            self.assertEqual(consumed.returncode, 0, consumed.stderr)
            self.assertEqual(consumed.stdout, "hello from the package\n")
        finally:
            broker.send_signal(signal.SIGTERM)
            stderr = broker.communicate(timeout=60)[1]
        self.assertEqual(broker.returncode, 0, stderr)
        self.assertTrue(os.path.isdir(os.path.join(data_dir, "packaged-0")))


if __name__ == "__main__":
    unittest.main()

"""go_support: build tests/interop/go/sarama_client for an interop test.

    import go_support
    binary = go_support.build_sarama_client(temp_dir)
    class MyTest(go_support.SaramaClientMixin, harness.BrokerTestCase): ...  # or, per class

The program is built offline, in GOPATH mode against Debian's packaged sources
(/usr/share/gocode; scripts/install-deps.sh installs golang-go and
golang-github-shopify-sarama-dev), with its own GOCACHE under temp_dir, so a test run builds it
once (about 8 s on two cores with a cold cache) and leaves nothing behind.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "sarama_client")
GOCODE = "/usr/share/gocode"
SARAMA = os.path.join(GOCODE, "src", "github.com", "Shopify", "sarama")
BUILD_TIMEOUT_S = 600


def build_sarama_client(target_dir):
    """Builds sarama_client into target_dir; returns its path. Fails (AssertionError) with
    what is missing when go or sarama's sources are not installed."""
    if shutil.which("go") is None or not os.path.isdir(SARAMA):
        raise AssertionError("needs the go compiler and sarama's sources in %s: install "
                             "golang-go and golang-github-shopify-sarama-dev "
                             "(scripts/install-deps.sh)" % SARAMA)
    env = dict(os.environ, GO111MODULE="off", GOPROXY="off", GOFLAGS="",
               GOPATH=os.path.join(target_dir, "gopath") + ":" + GOCODE,
               GOCACHE=os.path.join(target_dir, "gocache"))
    binary = os.path.join(target_dir, "sarama_client")
    sources = sorted(glob.glob(os.path.join(SOURCE_DIR, "*.go")))
    started = time.monotonic()
    out = subprocess.run(["go", "build", "-o", binary] + sources, cwd=SOURCE_DIR, env=env,
                         capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if out.returncode != 0:
        raise AssertionError("go build failed:\n" + out.stderr)
    print("sarama_client built in %.1f s" % (time.monotonic() - started), file=sys.stderr)
    return binary


class SaramaClientMixin:
    """For a test class, before its broker: builds sarama_client once into a temp dir
    (cls.sarama_client, its path), removed after the class's last test.

        class MyTest(go_support.SaramaClientMixin, harness.BrokerTestCase): ...
    """

    @classmethod
    def setUpClass(cls):
        cls.sarama_build_dir = tempfile.mkdtemp(prefix="cairn-sarama-")
        try:
            cls.sarama_client = build_sarama_client(cls.sarama_build_dir)
            super().setUpClass()
        except BaseException:
            shutil.rmtree(cls.sarama_build_dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.sarama_build_dir, ignore_errors=True)

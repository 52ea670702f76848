"""js_support: run the Node.js client scripts in tests/interop/js from an interop test.

    import js_support
    js_support.ensure_node_modules("kafka-node")
    result = js_support.run_json("kafka_node.js", [bootstrap, topic, "30", "all"])

tests/interop/js/node_modules is installed with `npm ci` (from package-lock.json) when the
package a test needs is missing: that needs the npm registry once; later runs are offline.
"""
import json
import os
import subprocess

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def ensure_node_modules(package):
    """Installs the pinned JS clients unless `package` is in node_modules already."""
    if not os.path.exists(os.path.join(JS_DIR, "node_modules", package, "package.json")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       timeout=600)


def run_json(script, args, timeout_s=180, context=lambda: ""):
    """Runs `node SCRIPT ARGS...` and returns the JSON of the last line it printed. Fails
    (AssertionError) with its stderr and context() when it exits non-zero."""
    out = subprocess.run(["node", script] + [str(a) for a in args], cwd=JS_DIR,
                         capture_output=True, text=True, timeout=timeout_s)
    if out.returncode != 0:
        raise AssertionError("node %s %s exited with %d:\n%s\n%s"
                             % (script, " ".join(map(str, args)), out.returncode, out.stderr,
                                context()))
    return json.loads(out.stdout.strip().splitlines()[-1])

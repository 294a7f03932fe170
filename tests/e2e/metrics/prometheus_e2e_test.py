#!/usr/bin/env python3
"""bnmlp-server's metrics as Prometheus sees them, with real processes.

A bnmlp-server with --metrics_address, driven through the bnmlp CLI; its
/metrics scrape must pass `promtool check metrics`, and a real Prometheus
server (Debian's `prometheus`) scraping it every second must report, through
its HTTP query API, the Predict counter that our Predict moved.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

ARGS = None
DEADLINE_SECONDS = 60  # for anything to come up; not a timing under test


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def wait_for(what, check):
    deadline = time.monotonic() + DEADLINE_SECONDS
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {DEADLINE_SECONDS} s "
                         f"(last error: {last_error})")


class PrometheusE2ETest(unittest.TestCase):

    def setUp(self):
        for tool in (ARGS.prometheus, ARGS.promtool):
            self.assertTrue(shutil.which(tool), f"{tool} is missing: "
                            "scripts/install-deps installs Debian's prometheus")
        self.dir = tempfile.mkdtemp(prefix="bnmlp-metrics-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.server_log = open(os.path.join(self.dir, "server.log"), "w+")
        port_file = os.path.join(self.dir, "port")
        self.server = subprocess.Popen(
            [ARGS.server, "--listen_address=127.0.0.1:0",
             f"--port_file={port_file}", "--metrics_address=127.0.0.1:0"],
            stdout=self.server_log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, self.server)
        self.port = int(wait_for("the server's port file",
                                 lambda: open(port_file).read().strip()))
        self.metrics_port = int(wait_for(
            "metrics_port in the server's log",
            lambda: re.search(r" metrics_port=(\d+)", self.log()).group(1)))

    def stop(self, process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log(self):
        self.server_log.flush()
        with open(self.server_log.name) as f:
            return f.read()

    def cli(self, *args, stdin=None):
        result = subprocess.run(
            [ARGS.cli, "--server", f"127.0.0.1:{self.port}", *args],
            input=stdin, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0,
                         f"bnmlp {' '.join(args)}: {result.stderr}")
        return result.stdout

    def predict_once(self):
        self.cli("create", "--name", "m", "--layers", "3-4-2")
        self.cli("predict", "--name", "m", stdin="0.1,0.2,0.3\n1,2,3\n")

    def test_a_scrape_passes_promtool(self):
        self.predict_once()
        status, text = http_get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        self.assertEqual(status, 200)
        self.assertIn('bnmlp_predict_rows_total{model="m"} 2', text)
        check = subprocess.run([ARGS.promtool, "check", "metrics"],
                               input=text, capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(check.returncode, 0,
                         f"promtool check metrics:\n{check.stdout}"
                         f"{check.stderr}\n--- scrape ---\n{text}")

    def test_prometheus_scrapes_the_predict_counter(self):
        web_port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "scrape_configs:\n  - job_name: bnmlp\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.metrics_port}']\n")
        prometheus_log = open(os.path.join(self.dir, "prometheus.log"), "w+")
        prometheus = subprocess.Popen(
            [ARGS.prometheus, f"--config.file={config}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'tsdb')}",
             f"--web.listen-address=127.0.0.1:{web_port}"],
            stdout=prometheus_log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, prometheus)
        base = f"http://127.0.0.1:{web_port}"
        wait_for("Prometheus ready", lambda: http_get(f"{base}/-/ready")[0] == 200)
        self.predict_once()
        query = urllib.parse.quote(
            'bnmlp_rpc_requests_total{job="bnmlp",method="Predict",code="OK"}')

        def predict_count():
            _, body = http_get(f"{base}/api/v1/query?query={query}")
            result = json.loads(body)["data"]["result"]
            return result and float(result[0]["value"][1]) >= 1

        try:
            wait_for("Prometheus reporting our Predict", predict_count)
        except AssertionError:
            prometheus_log.flush()
            with open(prometheus_log.name) as f:
                self.fail(f"Prometheus never saw the Predict\n{f.read()[-3000:]}")
        _, body = http_get(f"{base}/api/v1/targets")
        self.assertIn('"health":"up"', body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--prometheus", default="prometheus")
    parser.add_argument("--promtool", default="promtool")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], *rest])

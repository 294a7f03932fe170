#!/usr/bin/env python3
"""ctest label `k8s`: the Kubernetes manifests in docker/k8s agree with the
server and the image, with no cluster.

  k8s_manifests_test.py --manifests DIR --dockerfile FILE --proto FILE
                        --server BIN

Reads every YAML file under DIR and builds each kustomization in it (its
resources, then its JSON patches, as `kubectl apply -k` would), then checks
each variant (plaintext, tls, mtls):
  - every file parses and is used: a resource or a patch of a kustomization;
  - every `--flag` passed to bnmlp-server is one that `bnmlp-server --help`
    lists, and no `command:` replaces the image's ENTRYPOINT;
  - ports: --listen_address, the `grpc` containerPort, the gRPC probes and
    the Services' target ports are the Dockerfile's EXPOSE;
  - the pods run as the Dockerfile's numeric USER (runAsNonRoot,
    runAsUser) and the gRPC probes ask for the proto's service name;
  - the writer is a single replica that writes --model_dir; serving
    replicas are --read_only and mount the store read-only; every file a
    flag names lies on a mounted volume; the grace period outlasts
    --shutdown_grace_seconds and every container has a memory limit;
  - every Service selects pods and names a port they have.
"""

import argparse
import copy
import os
import re
import subprocess
import sys
import unittest

try:
    import yaml
except ImportError:
    sys.exit("FAIL: needs python3-yaml (scripts/install-deps installs it)")

ARGS = None  # set in main()
KUSTOMIZATION = "kustomization.yaml"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def read_dockerfile(path):
    """The runtime image's EXPOSE port, numeric USER uid and ENTRYPOINT."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    # The runtime stage is the last `FROM ... AS runtime` block.
    stage = text[text.index("AS runtime") :]
    stage = stage[: stage.find("\nFROM ") if "\nFROM " in stage else None]
    expose = re.search(r"^EXPOSE\s+(\d+)", stage, re.M)
    user = re.search(r"^USER\s+(\d+)", stage, re.M)
    entrypoint = re.search(r"^ENTRYPOINT\s+(\[.*\])", stage, re.M)
    assert expose and user and entrypoint, (
        f"{path}: the runtime stage needs EXPOSE <port>, a numeric USER and "
        "an exec-form ENTRYPOINT")
    return {
        "port": int(expose.group(1)),
        "uid": int(user.group(1)),
        "entrypoint": yaml.safe_load(entrypoint.group(1)),
        "text": stage,
    }


def read_service_name(path):
    """package.Service of the API, as gRPC health checks name it."""
    with open(path) as f:
        text = f.read()
    package = re.search(r"^package\s+([\w.]+)\s*;", text, re.M).group(1)
    service = re.search(r"^service\s+(\w+)", text, re.M).group(1)
    return f"{package}.{service}"


def server_flags(binary):
    """The flag names `bnmlp-server --help` lists."""
    result = subprocess.run([binary, "--help"], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, f"{binary} --help: exit {result.returncode}"
    flags = set(re.findall(r"^\s+--([a-z0-9_]+)\b", result.stdout, re.M))
    assert "listen_address" in flags, f"no flags in {binary} --help output"
    return flags


def load_yaml_files(root):
    """{path: [documents]} for every .yaml/.yml file below root."""
    files = {}
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(directory, name)
                with open(path) as f:
                    files[path] = [d for d in yaml.safe_load_all(f) if d is not None]
    return files


# --- kustomize, the part these manifests use ---------------------------------

def pointer_parent(document, pointer):
    """The container and final key of an RFC 6901 JSON pointer."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def apply_json_patch(document, operations, where):
    for op in operations:
        parent, key = pointer_parent(document, op["path"])
        if op["op"] == "add" and isinstance(parent, list):
            index = len(parent) if key == "-" else int(key)
            parent.insert(index, copy.deepcopy(op["value"]))
        elif op["op"] in ("add", "replace") and isinstance(parent, dict):
            if op["op"] == "replace" and key not in parent:
                raise AssertionError(f"{where}: replace of missing {op['path']}")
            parent[key] = copy.deepcopy(op["value"])
        elif op["op"] == "replace" and isinstance(parent, list):
            parent[int(key)] = copy.deepcopy(op["value"])
        else:
            raise AssertionError(f"{where}: JSON patch op {op['op']} at "
                                 f"{op['path']} is not supported by this test")


def build_kustomization(directory, files, used):
    """The objects `kubectl apply -k directory` would create."""
    path = os.path.join(directory, KUSTOMIZATION)
    assert path in files, f"{directory}: no {KUSTOMIZATION}"
    used.add(path)
    (kustomization,) = files[path]
    objects = []
    for resource in kustomization.get("resources", []):
        target = os.path.normpath(os.path.join(directory, resource))
        if os.path.isdir(target):
            objects += build_kustomization(target, files, used)
        else:
            assert target in files, f"{path}: resource {resource} not found"
            used.add(target)
            objects += copy.deepcopy(files[target])
    for patch in kustomization.get("patches", []):
        patch_path = os.path.normpath(os.path.join(directory, patch["path"]))
        assert patch_path in files, f"{path}: patch {patch['path']} not found"
        used.add(patch_path)
        (operations,) = files[patch_path]
        selector = patch["target"]
        matched = [o for o in objects if o["kind"] == selector["kind"]
                   and o["metadata"]["name"] == selector["name"]]
        assert len(matched) == 1, f"{path}: patch target {selector} matches {len(matched)} objects"
        apply_json_patch(matched[0], operations, patch_path)
    return objects


# --- helpers over the objects --------------------------------------------------

def server_container(workload):
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{name_of(workload)}: expected one container"
    return containers[0]


def name_of(obj):
    return f"{obj['kind']}/{obj['metadata']['name']}"


def flag_values(container):
    """{flag: value} of the container's args; a bare --flag gives True."""
    values = {}
    for arg in container.get("args", []):
        assert isinstance(arg, str) and arg.startswith("--"), (
            f"argument {arg!r}: write each flag as one --name=value string")
        name, _, value = arg[2:].partition("=")
        values[name] = value if "=" in arg else True
    return values


def memory_bytes(quantity):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    match = re.fullmatch(r"(\d+)([A-Za-z]*)", str(quantity))
    assert match and (match.group(2) in units or not match.group(2)), (
        f"memory quantity {quantity!r}")
    return int(match.group(1)) * units.get(match.group(2), 1)


class ManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dockerfile = read_dockerfile(ARGS.dockerfile)
        cls.service_name = read_service_name(ARGS.proto)
        cls.flags = server_flags(ARGS.server)
        cls.files = load_yaml_files(ARGS.manifests)
        cls.used = set()
        cls.variants = {}
        for path in cls.files:
            if os.path.basename(path) == KUSTOMIZATION:
                directory = os.path.dirname(path)
                name = os.path.relpath(directory, ARGS.manifests)
                cls.variants[name] = build_kustomization(directory, cls.files, cls.used)

    def workloads(self):
        for variant, objects in self.variants.items():
            for obj in objects:
                if obj["kind"] in WORKLOAD_KINDS:
                    yield variant, obj

    def test_every_file_is_a_resource_or_patch(self):
        self.assertIn(".", self.variants, "docker/k8s has no kustomization.yaml")
        self.assertEqual(sorted(set(self.files) - self.used), [],
                         "YAML files that no kustomization uses")

    def test_flags_are_server_flags(self):
        missing = {}  # flag -> the workloads passing it
        for _, workload in self.workloads():
            for flag in flag_values(server_container(workload)):
                if flag not in self.flags:
                    missing.setdefault(flag, set()).add(workload["metadata"]["name"])
        if missing:
            self.fail("flags the manifests pass that `bnmlp-server --help` does not list: "
                      + ", ".join(f"--{flag} ({', '.join(sorted(users))})"
                                  for flag, users in sorted(missing.items())))

    def test_image_entrypoint_is_kept(self):
        for variant, workload in self.workloads():
            container = server_container(workload)
            with self.subTest(variant=variant, workload=name_of(workload)):
                self.assertEqual(container.get("command", self.dockerfile["entrypoint"]),
                                 self.dockerfile["entrypoint"])
                self.assertEqual(container["image"].split(":")[0].split("/")[-1], "bnmlp")

    def test_ports_agree_with_the_dockerfile(self):
        port = self.dockerfile["port"]
        for variant, workload in self.workloads():
            container = server_container(workload)
            with self.subTest(variant=variant, workload=name_of(workload)):
                listen = flag_values(container).get("listen_address", "")
                self.assertTrue(listen.endswith(f":{port}"), f"--listen_address={listen}")
                ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
                self.assertEqual(ports.get("grpc"), port)
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    spec = container.get(probe)
                    self.assertIsNotNone(spec, f"no {probe}")
                    target = spec.get("grpc", spec.get("tcpSocket", {})).get("port")
                    self.assertIn(target, (port, "grpc"), f"{probe} port {target}")

    def test_grpc_probes_name_the_service(self):
        probes = 0
        for variant, workload in self.workloads():
            container = server_container(workload)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if "grpc" in container[probe]:
                    probes += 1
                    self.assertEqual(container[probe]["grpc"].get("service"), self.service_name,
                                     f"{variant}:{name_of(workload)} {probe}")
        self.assertGreater(probes, 0, "no gRPC probes in any variant")

    def test_pods_run_as_the_image_user(self):
        for variant, workload in self.workloads():
            context = workload["spec"]["template"]["spec"].get("securityContext", {})
            with self.subTest(variant=variant, workload=name_of(workload)):
                self.assertIs(context.get("runAsNonRoot"), True)
                self.assertEqual(context.get("runAsUser"), self.dockerfile["uid"])

    def test_one_writer_and_read_only_readers(self):
        for variant, objects in self.variants.items():
            writers = []
            readers = []
            for obj in objects:
                if obj["kind"] not in WORKLOAD_KINDS:
                    continue
                flags = flag_values(server_container(obj))
                (readers if flags.get("read_only") is True else writers).append(obj)
            with self.subTest(variant=variant):
                self.assertEqual(len(writers), 1, "expected exactly one writer workload")
                self.assertEqual(writers[0]["spec"].get("replicas"), 1,
                                 "the writer must have exactly one replica")
                self.assertGreater(len(readers), 0, "no --read_only serving workload")
                for reader in readers:
                    self.assertStoreMount(reader, read_only=True)
                self.assertStoreMount(writers[0], read_only=False)

    def assertStoreMount(self, workload, read_only):
        container = server_container(workload)
        model_dir = flag_values(container).get("model_dir")
        self.assertIsInstance(model_dir, str, f"{name_of(workload)}: no --model_dir")
        self.assertIn(model_dir, self.dockerfile["text"],
                      "--model_dir is not the directory the image prepares for the store")
        mounts = [m for m in container["volumeMounts"] if m["mountPath"] == model_dir]
        self.assertEqual(len(mounts), 1, f"{name_of(workload)}: nothing mounted at {model_dir}")
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
        claim = volumes[mounts[0]["name"]].get("persistentVolumeClaim")
        self.assertIsNotNone(claim, f"{name_of(workload)}: the store is not a PersistentVolumeClaim")
        self.assertEqual(bool(mounts[0].get("readOnly")), read_only)
        self.assertEqual(bool(claim.get("readOnly")), read_only)

    def test_files_named_by_flags_are_mounted(self):
        for variant, workload in self.workloads():
            container = server_container(workload)
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            volumes = {v["name"] for v in workload["spec"]["template"]["spec"]["volumes"]}
            for mount in container.get("volumeMounts", []):
                self.assertIn(mount["name"], volumes, f"{variant}:{name_of(workload)}")
            for flag, value in flag_values(container).items():
                if flag.endswith("_file") and flag != "port_file":
                    with self.subTest(variant=variant, workload=name_of(workload), flag=flag):
                        self.assertTrue(any(value.startswith(m + "/") for m in mounts),
                                        f"--{flag}={value} is on no mounted volume")

    def test_grace_and_memory_limits(self):
        for variant, workload in self.workloads():
            container = server_container(workload)
            flags = flag_values(container)
            spec = workload["spec"]["template"]["spec"]
            with self.subTest(variant=variant, workload=name_of(workload)):
                grace = float(flags.get("shutdown_grace_seconds", 10))
                self.assertGreater(spec.get("terminationGracePeriodSeconds", 30), grace)
                self.assertGreater(
                    memory_bytes(container["resources"]["limits"]["memory"]), 0)

    def test_services_select_pods_and_ports(self):
        for variant, objects in self.variants.items():
            pods = [o["spec"]["template"] for o in objects if o["kind"] in WORKLOAD_KINDS]
            for service in (o for o in objects if o["kind"] == "Service"):
                selector = service["spec"]["selector"]
                selected = [p for p in pods
                            if selector.items() <= p["metadata"]["labels"].items()]
                with self.subTest(variant=variant, service=name_of(service)):
                    self.assertEqual(service["spec"].get("clusterIP"), "None",
                                     "headless, so gRPC clients see every pod")
                    self.assertGreater(len(selected), 0, "selects no pods")
                    for port in service["spec"]["ports"]:
                        self.assertEqual(port["port"], self.dockerfile["port"])
                        for pod in selected:
                            names = {p.get("name") for p in pod["spec"]["containers"][0]["ports"]}
                            self.assertIn(port["targetPort"], names)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifests", required=True)
    parser.add_argument("--dockerfile", required=True)
    parser.add_argument("--proto", required=True)
    parser.add_argument("--server", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()

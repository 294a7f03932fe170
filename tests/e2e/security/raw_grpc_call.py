#!/usr/bin/env python3
"""An independent gRPC client for the security tests: Python grpcio
(Debian's python3-grpcio), no bnmlp code and no generated stubs. Requests
are protobuf bytes written by hand, so nothing here shares code with the
server or the bnmlp CLI.

  raw_grpc_call.py --address 127.0.0.1:PORT [--ca ca.pem [--cert c.pem
      --key c.key]] [--token TOKEN] CALL...

CALL is health, list, or create:NAME. Prints one line per call:
"CALL CODE" (the gRPC status code's name, e.g. OK, UNAUTHENTICATED), then
for health the serving status ("SERVING" when its response is status=1).
Exits 0 whatever the codes (the test judges them), 2 on bad usage.
"""
import argparse
import sys

import grpc


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def create_model_request(name):
    # CreateModelRequest: name = 1 (string), layer_sizes = 2 (packed int64).
    encoded = name.encode()
    sizes = varint(4) + varint(3) + varint(2)
    return (b"\x0a" + varint(len(encoded)) + encoded +
            b"\x12" + varint(len(sizes)) + sizes)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--token")
    parser.add_argument("calls", nargs="+")
    args = parser.parse_args()

    if args.ca:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.ca),
            private_key=read(args.key) if args.key else None,
            certificate_chain=read(args.cert) if args.cert else None)
        channel = grpc.secure_channel(args.address, credentials)
    else:
        channel = grpc.insecure_channel(args.address)
    metadata = []
    if args.token:
        metadata.append(("authorization", "Bearer " + args.token))

    for call in args.calls:
        if call == "health":
            path, request = "/grpc.health.v1.Health/Check", b""
        elif call == "list":
            path, request = "/bnmlp.v1.BnMlpService/ListModels", b""
        elif call.startswith("create:"):
            path = "/bnmlp.v1.BnMlpService/CreateModel"
            request = create_model_request(call[len("create:"):])
        else:
            print("unknown call " + call, file=sys.stderr)
            return 2
        method = channel.unary_unary(path)  # bytes in, bytes out
        try:
            response = method(request, metadata=metadata, timeout=10)
            extra = ""
            if call == "health":
                extra = " SERVING" if response == b"\x08\x01" else " NOT_SERVING"
            print(call + " OK" + extra)
        except grpc.RpcError as error:
            print(call + " " + error.code().name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# bnmlp-server with grpcurl (https://github.com/fullstorydev/grpcurl): every
# RPC, through server reflection only, so no .proto file is needed.
#
# Start a server first (e.g. build/release/server/bnmlp-server), then run
# this file, or copy-paste single lines. ADDR chooses another server:
#   ADDR=myhost:50051 examples/grpcurl.sh
#
# tests/e2e/reflection parses this file and sends these exact requests to a
# real server through a reflection client, so the commands stay correct.
# Keep one command per line.
set -euo pipefail
ADDR=${ADDR:-localhost:50051}

# What the server offers, and the API's shape.
grpcurl -plaintext "$ADDR" list
grpcurl -plaintext "$ADDR" describe bnmlp.v1.BnMlpService
grpcurl -plaintext "$ADDR" describe bnmlp.v1.TrainRequest
grpcurl -plaintext -d '{"service": ""}' "$ADDR" grpc.health.v1.Health/Check

# A classifier for 2 features and 2 classes, with one hidden layer of 8
# (BatchNorm before ReLU, the defaults).
grpcurl -plaintext -d '{"name": "toy", "layerSizes": [2, 8, 2], "seed": 1}' "$ADDR" bnmlp.v1.BnMlpService/CreateModel

# Train it on 16 points, class 0 around (-1, -1) and class 1 around (1, 1).
# Progress streams back: {"progress": ...} every 0.5 s within an epoch,
# exactly one {"epochEnd": ...} per epoch (with the version it published),
# and last {"done": ...}, the summary with the final version.
grpcurl -plaintext -d '{"name": "toy", "x": {"shape": [16, 2], "values": [-1.2, -0.8, -0.9, -1.1, -1.0, -1.3, -0.7, -0.9, -1.4, -1.0, -0.8, -0.6, -1.1, -1.2, -0.6, -1.0, 1.1, 0.9, 0.8, 1.2, 1.3, 1.0, 0.9, 0.7, 1.0, 1.4, 0.6, 1.0, 1.2, 0.8, 0.7, 1.1]}, "labels": [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], "epochs": 20, "batchSize": 8, "learningRate": 0.1, "shuffleSeed": 1}' "$ADDR" bnmlp.v1.BnMlpService/Train

# Class probabilities and the predicted class of two new points.
grpcurl -plaintext -d '{"name": "toy", "x": {"shape": [2, 2], "values": [-1, -1, 1, 1]}}' "$ADDR" bnmlp.v1.BnMlpService/Predict

# Every weight, bias, gamma, beta and running statistic.
grpcurl -plaintext -d '{"name": "toy"}' "$ADDR" bnmlp.v1.BnMlpService/GetParameters

# The model's architecture, version and training state; then all models.
grpcurl -plaintext -d '{"name": "toy"}' "$ADDR" bnmlp.v1.BnMlpService/GetModel
grpcurl -plaintext -d '{}' "$ADDR" bnmlp.v1.BnMlpService/ListModels

# Remove it (a running Train on it would be cancelled).
grpcurl -plaintext -d '{"name": "toy"}' "$ADDR" bnmlp.v1.BnMlpService/DeleteModel

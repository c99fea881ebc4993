# syntax=docker/dockerfile:1
# ACA-Py with the acapy-bridge shim (plugin-py-shim), on a slim Python 3.13.
# Build from the repository root:  docker build -f deploy/docker/acapy.Dockerfile -t acapy-bridge-acapy .
# The entrypoint starts ACA-Py with the shim as its only DIDComm transport; add the agent's own flags
# (endpoint, wallet, admin) as arguments or ACAPY_* variables, the Redis URL as ACAPY_BRIDGE_REDIS_URL.
ARG PYTHON_IMAGE=python:3.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY plugin-py-shim ./plugin-py-shim
# The versions CI tests together (constraints.txt) pin ACA-Py and the shim's dependencies.
RUN python -m venv /opt/acapy \
  && /opt/acapy/bin/pip install --constraint plugin-py-shim/constraints.txt "./plugin-py-shim[acapy]"

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/acapy/bin:${PATH} \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/acapy /opt/acapy
RUN groupadd --system --gid 10001 acapy \
  && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/acapy acapy
USER 10001:10001
WORKDIR /home/acapy
# The admin API (give --admin 0.0.0.0 8031 and an --admin-api-key): keep it off the Internet.
EXPOSE 8031
# The shim's inbound transport listens on nothing (its host and port are placeholders ACA-Py requires):
# DIDComm reaches this agent through the relays and Redis only.
ENTRYPOINT ["aca-py", "start", "--plugin", "acapy_bridge_shim", "-it", "acapy_bridge_shim.inbound", "0.0.0.0", "0", "-ot", "acapy_bridge_shim.outbound", "-ot", "http"]

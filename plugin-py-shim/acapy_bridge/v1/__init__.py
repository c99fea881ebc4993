"""Generated from proto/acapy_bridge/v1. Do not edit."""

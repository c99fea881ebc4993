"""The acapy-bridge contract, generated from proto/. Do not edit."""

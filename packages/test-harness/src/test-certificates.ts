import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestCertificates {
  dir: string;
  ca: IssuedCertificate;
  /** For 127.0.0.1 / localhost / ::1. */
  server: IssuedCertificate;
  /** A client certificate for mutual TLS. */
  client: IssuedCertificate;
  /** A CA that signed nothing here: trusting it must fail. */
  otherCa: IssuedCertificate;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (error) {
    throw new Error(`openssl ${args[0]} failed (is Debian's openssl installed?): ${(error as Error).message}`);
  }
}

async function selfSignedCa(dir: string, name: string): Promise<IssuedCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

async function issue(dir: string, ca: IssuedCertificate, name: string, extensions: string): Promise<IssuedCertificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await openssl([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    keyFile,
    "-out",
    csrFile,
  ]);
  writeFileSync(extFile, extensions);
  await openssl([
    "x509",
    "-req",
    "-in",
    csrFile,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    extFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A throwaway CA with a loopback server certificate and a client certificate, made by openssl in a temp dir. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), "acapy-bridge-certs-"));
  const ca = await selfSignedCa(dir, "test-ca");
  const otherCa = await selfSignedCa(dir, "other-ca");
  const server = await issue(
    dir,
    ca,
    "server",
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  const client = await issue(dir, ca, "client", "extendedKeyUsage=clientAuth\n");
  return { dir, ca, server, client, otherCa };
}

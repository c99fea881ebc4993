/** Query parameters whose values are secrets in the URLs agents publish (`?api_key=...`, `?token=...`). */
const SECRET_PARAMETER = /key|token|secret|pass|auth|sig|cred/i;

/**
 * An endpoint URL fit for a log line: user and password, and the values of query parameters
 * that look like secrets, replaced by `***`; what is not a URL is cut to its first 100 characters.
 */
export function maskedEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint.length > 100 ? `${endpoint.slice(0, 100)}...` : endpoint;
  }
  if (url.username) url.username = "***";
  if (url.password) url.password = "***";
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAMETER.test(name)) url.searchParams.set(name, "***");
  }
  return url.href;
}

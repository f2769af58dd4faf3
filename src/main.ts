/**
 * Entry point: start the configured roles; SIGTERM/SIGINT → graceful stop (drain, then close).
 * Exit codes: 0 stopped cleanly; 78 refused to start (configuration, files, credentials key: the
 * message names each setting); 1 any other failure.
 */
import { createHub } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

async function main(): Promise<void> {
  const rolesArg = process.argv.find((a) => a.startsWith('--roles='));
  const env = rolesArg ? { ...process.env, HUB_ROLES: rolesArg.slice('--roles='.length) } : process.env;
  const config = loadConfig(env);
  const hub = await createHub(config);
  hub.log.info({ roles: config.roles, url: hub.url, healthUrl: hub.healthUrl }, 'hub started');
  if (hub.url)
    console.log(
      `\n  Hub ready: ${hub.url}  (roles: ${config.roles.join(', ')})\n  API spec:  ${hub.url}/v1/openapi.json`,
    );
  else console.log(`\n  Hub ready (roles: ${config.roles.join(', ')})`);
  console.log(`  Health:    ${hub.healthUrl}/readyz\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const drainMs = config.shutdown.drainMs;
    hub.log.info({ signal, drainMs }, 'stopping: draining, then intake closed and in-flight work finished');
    hub
      .stop({ drainMs })
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  console.error(`Hub failed to start: ${(err as Error).message}`);
  process.exit(1);
});

/** Entry point: start the configured roles; SIGTERM/SIGINT → graceful stop. */
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
      `\n  Hub ready: ${hub.url}  (roles: ${config.roles.join(', ')})\n  API spec:  ${hub.url}/v1/openapi.json\n`,
    );
  else console.log(`\n  Hub ready (roles: ${config.roles.join(', ')}); health: ${hub.healthUrl}/readyz\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    hub.log.info({ signal }, 'stopping: intake closed, finishing in-flight work');
    hub
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`Hub failed to start: ${(err as Error).message}`);
  process.exit(1);
});

/** Builds the Tableau refresh settings from validated config; undefined when Tableau is not configured. */
import type { LoaderConfig } from '../config';
import type { TableauClientOptions, TableauTarget } from './tableau-client';

export interface TableauRefreshSetup {
  /** Options of the client created per refresh (a client holds one session). */
  client: Omit<TableauClientOptions, 'logger'>;
  target: TableauTarget;
  /** How long one refresh call waits for the job. */
  timeoutMs: number;
}

export function createTableauRefresh(config: LoaderConfig): TableauRefreshSetup | undefined {
  const {
    TABLEAU_SERVER_URL: serverUrl,
    TABLEAU_TOKEN_NAME: tokenName,
    TABLEAU_TOKEN_SECRET: tokenSecret,
  } = config;
  if (!serverUrl || !tokenName || !tokenSecret) return undefined;
  // The config schema guarantees exactly one target when the server and token are set.
  const target: TableauTarget = config.TABLEAU_WORKBOOK_ID
    ? { kind: 'workbook', id: config.TABLEAU_WORKBOOK_ID }
    : config.TABLEAU_DATASOURCE_ID
      ? { kind: 'datasource', id: config.TABLEAU_DATASOURCE_ID }
      : { kind: 'datasource', name: config.TABLEAU_DATASOURCE_NAME ?? '' };
  return {
    client: {
      serverUrl,
      apiVersion: config.TABLEAU_API_VERSION,
      site: config.TABLEAU_SITE,
      tokenName,
      tokenSecret,
    },
    target,
    timeoutMs: config.TABLEAU_REFRESH_TIMEOUT_SECONDS * 1000,
  };
}

/** The formats a run's report is written in, as the CLI, the API and the workbench offer them. */
export const REPORT_FORMATS = ['pdf', 'html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

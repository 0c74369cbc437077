export declare const DEMO_ALERTS_URL_ENV: 'DEMO_ALERTS_WEBHOOK_URL';
export declare const DEMO_ALERTS_SECRET_ENV: 'DEMO_ALERTS_WEBHOOK_SECRET';
export declare const DEMO_ALERTS_CHANNEL: 'demo-webhook';
export declare function demoAlertsSection(): Record<string, unknown>;
export declare function signatureValid(rawBody: string, header: string | string[] | undefined, secret: string, nowSeconds?: number): boolean;
export interface DemoAlertReceiver {
  url: string;
  secret: string;
  received: { id: string; action: string; title: string }[];
  close(): Promise<void>;
}
export declare function startDemoAlertReceiver(options?: { log?: (message: string) => void }): Promise<DemoAlertReceiver>;

export declare const root: string;
export declare const nextBin: string;
export declare function needsBuild(): boolean;
export declare function buildIfNeeded(): number;
export declare function serverNodeArgs(env?: Record<string, string | undefined>): string[];

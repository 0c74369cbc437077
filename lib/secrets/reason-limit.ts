/** The most characters a reason (rotate, generate, schedule, reveal) may have; shared by the forms and the validation without pulling zod into the browser. */
export const MAX_REASON_LENGTH = 500;

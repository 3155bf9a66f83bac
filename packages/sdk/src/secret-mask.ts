/** What a secret feed parameter reads as wherever it is shown (API replies, logs, statuses). */
export const SECRET_MASK = '********';

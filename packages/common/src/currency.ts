/** Currency symbols a money value may carry before or after its number (`$1,234.50`, `12.50 €`). */
export const CURRENCY_SYMBOLS = '$€£¥₹';
/**
 * ISO codes written in place of a symbol (`USD 12.50`, `12,50 EUR`), upper case, and India's `Rs` (`Rs. 1,299`).
 * A closed list: any three capitals before a number would take product codes (`LOT 123`) for money. Column
 * names carry them as units too (`Sales (USD)`, `umsatz_eur`).
 */
// biome-ignore format: a list of codes, not one a line
export const CURRENCY_CODES = [
  'USD', 'EUR', 'GBP', 'JPY', 'CNY', 'INR', 'AUD', 'CAD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'HUF',
  'RUB', 'TRY', 'BRL', 'MXN', 'ARS', 'CLP', 'COP', 'PEN', 'ZAR', 'NGN', 'KES', 'EGP', 'AED', 'SAR', 'ILS',
  'KRW', 'SGD', 'HKD', 'TWD', 'NZD', 'IDR', 'MYR', 'PHP', 'THB', 'VND', 'PKR', 'BDT', 'LKR', 'Rs',
] as const;

export { formatCsvField, formatCsvRow } from './csv';
export { createRandom, type Random } from './prng';
export {
  BAD_DATES,
  BAD_NUMBERS,
  generateSalesChunks,
  generateSalesCsv,
  SALES_COLUMNS,
  SALES_DIRT,
  type SalesColumn,
  type SalesCsvOptions,
  writeSalesCsv,
} from './sales-csv';

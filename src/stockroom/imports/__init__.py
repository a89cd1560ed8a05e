"""CSV imports: products into the catalogue, stock into the ledger; checked whole, then all or none.

    rows.py      reading a CSV file with a header, row by row, with line numbers and errors
    fields.py    parsing one cell (text, whole numbers, yes/no, money) with the API's limits
    products.py  `read_products` (the file alone) → `import_products` (bulk insert)
    stock.py     `read_stock` (the file alone) → `import_stock` (through `post_movements`)

Reading the file needs no database, so the caller parses before it opens its write
transaction (on SQLite that transaction holds the database's write lock). Every row is
checked and every problem reported with its line number before anything is written; a file
with any error writes nothing (`ImportRejected`).
"""

from stockroom.imports.products import ProductFile, import_products, read_products
from stockroom.imports.rows import ImportRejected, Progress, RowError
from stockroom.imports.stock import StockFile, StockMode, import_stock, read_stock

__all__ = [
    "ImportRejected",
    "ProductFile",
    "Progress",
    "RowError",
    "StockFile",
    "StockMode",
    "import_products",
    "import_stock",
    "read_products",
    "read_stock",
]

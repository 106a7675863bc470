"""Writers: run folders, tables, charts, the HTML report and the workbook."""

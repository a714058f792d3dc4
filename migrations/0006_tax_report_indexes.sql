-- EC sales list: the intra-community rows (K goods, AE services) of a tenant's period, with
-- every column the list sums, so a year is an index-only scan of those rows alone rather
-- than a pass over all the tenant's documents (see tax_report_queries.ec_sales_list_report).
CREATE INDEX tax_documents_ec_sales ON tax_documents (tenant_id, issue_date)
    INCLUDE (buyer_tax_id, buyer_country, tax_category, taxable_amount)
    WHERE tax_category IN ('K', 'AE');

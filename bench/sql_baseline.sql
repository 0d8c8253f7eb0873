-- The writes of one invoice (POST /rest/default/V1/order/{id}/invoice {"capture": true} on a one-line
-- checkmo order) as ONE raw-SQL transaction, for pgbench: the ceiling the HTTP door is measured against.
--
--   pgbench -n [-M prepared] -f bench/sql_baseline.sql -c C -j C -T 20 \
--           -D pool_min=FIRST_ORDER_ID -D pool_max=LAST_ORDER_ID -D store=1 counterfoil_bench
--
-- bench/http_bench.py runs it (1, 8 and 32 clients) on a pool of one-line orders it imports once
-- (customer_email pgbench-pool@bench.invalid, consecutive ids) and deletes the invoices it wrote
-- after each run, so the bench database stays at its seeded size.
--
-- Mirrors, statement for statement, the 13 queries sales.services.invoice_order runs for such an
-- order (captured with CaptureQueriesContext; the door adds one more, the token lookup, when the
-- token is not in the process's cache): BEGIN, SET LOCAL lock_timeout, the order row FOR UPDATE with
-- its addresses and payment (joined, only the order locked), its items, its payment, the payment's paid
-- amounts, the invoice number (nextval), the invoice, its row, the order rows' *_invoiced columns (one
-- UPDATE ... FROM VALUES), the order's totals and state, the grid row, COMMIT.
-- Simplifications, none of which makes the database do less work:
-- - the pool is reused: an order is invoiced again and again (qty_invoiced is set to qty_ordered,
--   as the ORM sets absolute values, so the CHECK constraints hold); pgbench picks orders at random,
--   so two clients may wait on the same order's lock, as they would on a real hot order;
-- - amounts are computed in SQL from the order and item rows instead of in Python (for a one-line
--   order without tax or discount, invoice = order: the same values the service writes);
-- - the increment id is the sequence's value zero-padded to 9 digits (the stores have no prefix);
-- - the grid's keywords column is a concatenation like sales.grid's (same length, same indexes); the
--   grid row is INSERT ... SELECT over the same joins (a few primary-key lookups) where the service
--   writes the values it has in hand.
-- Variables used where PostgreSQL cannot infer a type carry a cast (:store::int), so that with
-- pgbench -M prepared every statement can be prepared.
-- No order status history row: an offline method paid offline writes none (only online captures,
-- payment review and comments do), and no stock rows: a physical item's stock moves at shipment.

\set order_id random(:pool_min, :pool_max)

BEGIN;
SET LOCAL lock_timeout = 5000;

-- lock_order(related=...): the order row, locked, with its addresses and payment in the same query
SELECT o.*, b.*, s.*, p.*
  FROM sales_order o
  LEFT JOIN sales_orderaddress b ON o.billing_address_id = b.id
  LEFT JOIN sales_orderaddress s ON o.shipping_address_id = s.id
  LEFT JOIN payments_payment p ON p.order_id = o.id
 WHERE o.id = :order_id FOR UPDATE OF o;
-- ItemTree: the order's rows, re-read under the lock
SELECT * FROM sales_orderitem WHERE order_id = :order_id ORDER BY id;
-- settle_invoice_payment(): the payment, then its paid amounts
SELECT * FROM payments_payment WHERE order_id = :order_id ORDER BY id LIMIT 1;
UPDATE payments_payment p
   SET amount_paid = o.grand_total, base_amount_paid = o.base_grand_total,
       shipping_captured = o.shipping_amount, base_shipping_captured = o.base_shipping_amount
  FROM sales_order o
 WHERE p.order_id = o.id AND o.id = :order_id;

-- next_increment_id(): the store's invoice sequence
SELECT prefix, suffix, start_value, step, nextval(format('sales_sequence_invoice_%s', :store::int)::regclass) AS seq
  FROM sales_salessequence WHERE entity_type = 'invoice' AND store_id = :store \gset

-- invoice.save(force_insert=True), state 2 = Paid, can_void_flag 0 (offline payment)
INSERT INTO sales_invoice (
    order_id, store_id, increment_id, state, customer_id, billing_address_id, shipping_address_id,
    can_void_flag, discount_description, global_currency_code, base_currency_code, store_currency_code,
    order_currency_code, store_to_base_rate, store_to_order_rate, base_to_global_rate, base_to_order_rate,
    total_qty, grand_total, base_grand_total, subtotal, base_subtotal, subtotal_incl_tax, base_subtotal_incl_tax,
    discount_amount, base_discount_amount, tax_amount, base_tax_amount,
    discount_tax_compensation_amount, base_discount_tax_compensation_amount,
    shipping_amount, base_shipping_amount, base_cost, created_at, updated_at)
SELECT o.id, o.store_id, lpad(:seq::bigint::text, 9, '0'), 2, o.customer_id, o.billing_address_id, o.shipping_address_id,
       0, o.discount_description, o.global_currency_code, o.base_currency_code, o.store_currency_code,
       o.order_currency_code, o.store_to_base_rate, o.store_to_order_rate, o.base_to_global_rate, o.base_to_order_rate,
       o.total_qty_ordered, o.grand_total, o.base_grand_total, o.subtotal, o.base_subtotal, 0, 0,
       0, 0, o.tax_amount, o.base_tax_amount, 0, 0,
       o.shipping_amount, o.base_shipping_amount, 0, now(), now()
  FROM sales_order o WHERE o.id = :order_id
RETURNING id AS invoice_id \gset

-- InvoiceItem.objects.bulk_create(rows): one row per order row
INSERT INTO sales_invoiceitem (
    parent_id, order_item_id, product_id, sku, name, description, qty, base_cost, price, base_price,
    row_total, base_row_total, tax_amount, base_tax_amount, discount_amount, base_discount_amount)
SELECT :invoice_id::int, i.id, i.product_id, i.sku, i.name, i.description, i.qty_ordered, i.base_cost, i.price, i.base_price,
       i.row_total, i.base_row_total, 0, 0, 0, 0
  FROM sales_orderitem i WHERE i.order_id = :order_id ORDER BY i.id;

-- registered_items_save(): the order rows' registered columns, one UPDATE for all rows
UPDATE sales_orderitem
   SET qty_invoiced = qty_ordered, row_invoiced = row_total, base_row_invoiced = base_row_total,
       tax_invoiced = 0, base_tax_invoiced = 0, discount_invoiced = 0, base_discount_invoiced = 0,
       discount_tax_compensation_invoiced = 0, base_discount_tax_compensation_invoiced = 0
 WHERE order_id = :order_id;

-- order.save(update_fields=[*REGISTERED_ORDER_FIELDS, "state", "status", "updated_at"])
UPDATE sales_order
   SET state = 'processing', status = 'processing',
       total_invoiced = grand_total, base_total_invoiced = base_grand_total,
       subtotal_invoiced = subtotal, base_subtotal_invoiced = base_subtotal,
       discount_invoiced = 0, base_discount_invoiced = 0, tax_invoiced = 0, base_tax_invoiced = 0,
       discount_tax_compensation_invoiced = 0, base_discount_tax_compensation_invoiced = 0,
       shipping_invoiced = shipping_amount, base_shipping_invoiced = base_shipping_amount,
       base_total_invoiced_cost = 0, total_paid = grand_total, base_total_paid = base_grand_total,
       updated_at = now()
 WHERE id = :order_id;

-- invoice_grid_write(invoice): the grid row
INSERT INTO sales_invoice_grid (
    entity_id, increment_id, state, store_id, store_name, order_id, order_increment_id, order_created_at,
    customer_name, customer_email, customer_group_id, payment_method, billing_name, billing_address,
    shipping_address, shipping_information, subtotal, shipping_and_handling, grand_total, base_grand_total,
    global_currency_code, base_currency_code, store_currency_code, order_currency_code, created_at, updated_at,
    keywords)
SELECT i.id, i.increment_id, i.state, i.store_id, o.store_name, i.order_id, o.increment_id, o.created_at,
       NULLIF(concat_ws(' ', o.customer_firstname, o.customer_lastname), ''), o.customer_email, o.customer_group_id,
       p.method, concat_ws(' ', b.firstname, b.lastname), concat_ws(', ', b.street, b.city, b.postcode),
       concat_ws(', ', s.street, s.city, s.postcode), o.shipping_description, i.base_subtotal,
       i.base_shipping_amount, i.grand_total, i.base_grand_total, i.global_currency_code, i.base_currency_code,
       i.store_currency_code, i.order_currency_code, i.created_at, i.updated_at,
       lower(concat_ws(' ', i.increment_id, o.increment_id, b.firstname, b.lastname,
                       concat_ws(', ', b.street, b.city, b.postcode), concat_ws(', ', s.street, s.city, s.postcode),
                       o.customer_email))
  FROM sales_invoice i
  JOIN sales_order o ON i.order_id = o.id
  LEFT JOIN payments_payment p ON o.id = p.order_id
  LEFT JOIN sales_orderaddress b ON i.billing_address_id = b.id
  LEFT JOIN sales_orderaddress s ON i.shipping_address_id = s.id
 WHERE i.id = :invoice_id
ON CONFLICT (entity_id) DO UPDATE SET
    increment_id = EXCLUDED.increment_id, state = EXCLUDED.state, grand_total = EXCLUDED.grand_total,
    base_grand_total = EXCLUDED.base_grand_total, updated_at = EXCLUDED.updated_at, keywords = EXCLUDED.keywords;

COMMIT;

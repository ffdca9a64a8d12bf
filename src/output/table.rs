//! kubectl-style tables: upper-case headers, no borders, columns left-aligned and separated by
//! three spaces (two where kubectl uses two), no trailing blanks — stable for `awk` and `cut`.

use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, ContentArrangement, Table};

pub struct KubeTable {
    table: Table,
    headers: bool,
    gap: u16,
}

impl KubeTable {
    pub fn new(headers: &[&str], show_headers: bool) -> Self {
        let mut table = Table::new();
        table.load_style(NOTHING);
        table.set_content_arrangement(ContentArrangement::Disabled);
        table.force_no_tty();
        if show_headers {
            table.set_header(headers.iter().map(|h| h.to_ascii_uppercase()));
        }
        for col in table.column_iter_mut() {
            col.set_padding((0, 3));
            col.set_cell_alignment(CellAlignment::Left);
        }
        KubeTable {
            table,
            headers: show_headers,
            gap: 3,
        }
    }

    /// Spaces between columns: 3 like `kubectl get`, 2 like `kubectl rollout history`.
    pub fn gap(mut self, gap: u16) -> Self {
        self.gap = gap;
        for col in self.table.column_iter_mut() {
            col.set_padding((0, gap));
        }
        self
    }

    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.table
            .add_row(cells.into_iter().map(Into::into).collect::<Vec<String>>());
        // Columns created by the first row get the same padding.
        for col in self.table.column_iter_mut() {
            col.set_padding((0, self.gap));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.table.row_count() == 0
    }

    /// The rendered table with a final newline (empty when there are no rows and no headers).
    pub fn render(&self) -> String {
        if self.is_empty() && !self.headers {
            return String::new();
        }
        let mut s: String = self
            .table
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_kubectl() {
        let mut t = KubeTable::new(&["revision", "change-cause"], true);
        t.row(["1", "<none>"]);
        t.row(["12", "kubectl set image deployment/web nginx=nginx:1.28"]);
        assert_eq!(
            t.render(),
            "REVISION   CHANGE-CAUSE\n1          <none>\n12         kubectl set image deployment/web nginx=nginx:1.28\n"
        );
        let mut t = KubeTable::new(&["revision", "change-cause"], true).gap(2);
        t.row(["1", "<none>"]);
        assert_eq!(t.render(), "REVISION  CHANGE-CAUSE\n1         <none>\n");
        let mut t = KubeTable::new(&["a", "b"], false);
        t.row(["x", "y"]);
        assert_eq!(t.render(), "x   y\n");
    }
}

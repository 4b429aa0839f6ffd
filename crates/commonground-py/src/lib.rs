//! `commonground._core`: the Python bindings of commonground.
//!
//! This crate converts and maps errors; it never computes (docs/architecture.md). Python values
//! become vote events and statements ([`convert`]), the core analyses them with the GIL released,
//! and the [`commonground::Analysis`] goes back to Python column by column as numpy arrays and
//! lists, from which `python/commonground/_analysis.py` builds pandas DataFrames. Each core error
//! variant becomes its own Python exception ([`errors`]).

mod analysis;
mod conversation;
mod convert;
mod errors;

use pyo3::prelude::*;

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<conversation::PyConversation>()?;
    m.add_class::<analysis::PyAnalysis>()?;
    m.add_function(wrap_pyfunction!(conversation::default_params, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::bridging_scores, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::percent, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::_analysis_from_state, m)?)?;
    errors::register(m)?;
    Ok(())
}

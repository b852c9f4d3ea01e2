"""Provider adapters: one per wire protocol, behind `base.Provider`."""
